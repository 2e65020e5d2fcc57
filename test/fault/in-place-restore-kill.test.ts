import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine/engine.js';
import { CLI, jsonOf, runCli, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();

/**
 * A source written in place (a database, a command) has no renames to undo. When a restore is
 * killed after writing one, the next command must not claim the data is as before: it says the
 * source may hold the set, and names the safety set that holds the data as it was.
 */
describe('kill -9 of a restore after a source was written in place', () => {
  for (const point of ['restore:applied', 'restore:before-verify'])
    it(`at ${point}: the next command tells the operator which source to check and which safety set goes back`, async () => {
      const root = tempDir();
      mkdirSync(path.join(root, 'live'));
      const file = path.join(root, 'live', 'notes.txt');
      writeFileSync(file, 'as backed up\n');
      const home = path.join(root, 'home');
      const env = { name: 'prod', app: 'notes', location: path.join(root, 'sets'), sources: [{ kind: 'command', name: 'notes', dump: { argv: ['cat', file] }, restore: { argv: ['tee', file] } }] };
      // Set up and restore the safety set in this process; the killed restore and the next command are CLI runs.
      const setup = new Engine(home, 'test');
      await setup.call('env.save', { environment: env });
      const set = await setup.call('backup.run', { env: 'prod' });
      setup.close();
      writeFileSync(file, 'changed since\n');

      const child = spawn(process.execPath, [CLI, 'restore', '--env', 'prod', '--set', set.id], {
        env: { ...process.env, LIFEBOAT_HOME: home, LIFEBOAT_TEST_STALL: point },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const end = Date.now() + 180_000;
      while (!stderr.includes(`stalled at ${point}`)) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`the restore did not reach the stall point: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise<void>((resolve) => {
        child.once('close', () => resolve());
        child.kill('SIGKILL');
      });
      expect(readFileSync(file, 'utf8')).toBe('as backed up\n'); // the restore command had run

      const next = await runCli(['list', '--env', 'prod', '--json'], home);
      expect(next.code, next.stderr).toBe(0);
      const safety = jsonOf<{ id: string; label: string | null }[]>(next).find((s) => s.label === 'pre-restore');
      expect(safety).toBeDefined();
      expect(next.stderr).toContain(`"notes" (command tee ${file}) is written in place, not renamed, so it may hold the set`);
      expect(next.stderr).toContain(`to go back to the data as it was, restore the safety set ${safety!.id}.`);
      expect(next.stderr).not.toContain('the data is as it was before it');
      // The safety set does take it back.
      const after = new Engine(home, 'test');
      try {
        await after.call('restore.run', { env: 'prod', set: safety!.id });
      } finally {
        after.close();
      }
      expect(readFileSync(file, 'utf8')).toBe('changed since\n');
    });
});
