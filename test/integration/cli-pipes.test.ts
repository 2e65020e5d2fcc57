import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { useStallingPipes } from '../support/stall.js';
import { CLI, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const temp = useTempDirs();
const stallingPipe = useStallingPipes();

/** Runs `lifeboat ARGS` with its standard output closed before it prints: a reader like `head -1` that has gone. */
function runWithStdoutClosed(args: string[], home: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LIFEBOAT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** An imported demo environment with two sealed sets. */
async function imported() {
  const root = temp();
  makeLiveData(root);
  const home = path.join(root, 'home');
  expect((await runCli(['env', 'import', writeEnvFile(root, demoEnvironment(root))], home)).code).toBe(0);
  return { root, home };
}

describe('the CLI and a closed standard output', () => {
  it('`lifeboat list | head -1`: a reader that went away ends the command quietly, exit 0', async () => {
    const { home } = await imported();
    for (let i = 0; i < 2; i++) expect((await runCli(['backup', '--env', 'prod'], home)).code).toBe(0);
    for (const args of [['list', '--env', 'prod'], ['list', '--env', 'prod', '--json'], ['env', 'list'], ['--help']]) {
      const r = await runWithStdoutClosed(args, home);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
  });

  it('keeps the exit status of a failure when nobody reads its output', async () => {
    const root = temp();
    const r = await runWithStdoutClosed(['list', '--env', 'nowhere', '--json'], path.join(root, 'home'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: There is no environment "nowhere"/);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
});

describe('Ctrl-C in the CLI', () => {
  it('ends a backup stuck on a location that stopped answering: CANCELLED, logged, and the process ends as interrupted', async () => {
    const { root, home } = await imported();
    const hungSet = path.join(root, 'sets', 'shop_prod_20250101_000000');
    mkdirSync(hungSet, { recursive: true });
    const pipe = stallingPipe(path.join(hungSet, 'manifest.json'));
    const child = spawn(process.execPath, [CLI, 'backup', '--env', 'prod'], { env: { ...process.env, LIFEBOAT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    await pipe.reading;
    child.kill('SIGINT');
    // Node would wait for ever at exit for its thread still blocked in the read, so the command
    // ends by the signal's default action (a shell sees 130), after saying what happened.
    expect(await closed).toBe('SIGINT');
    expect(stderr).toMatch(/Cancelling/);
    expect(stderr).toMatch(/Error: The operation was cancelled\. It was waiting on a read or write that did not return/);
    expect(stderr).toMatch(/Hint: Check that the backup location .* answer/);
    expect(stderr).not.toMatch(/\n\s+at /);
    const activity = await runCli(['activity', '--env', 'prod'], home);
    expect(activity.stdout).toMatch(/backup\s+cancelled/);
  });
});
