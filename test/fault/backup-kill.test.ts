import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAppDb, makeAssets } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { CLI, jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const tempDir = useTempDirs();

async function setup(bigAssets = false) {
  const root = tempDir();
  mkdirSync(path.join(root, 'live', 'assets'), { recursive: true });
  makeAppDb(path.join(root, 'live', 'shop.db'), { rows: 2000, wal: true });
  makeAssets(path.join(root, 'live', 'assets'));
  if (bigAssets) {
    // Enough incompressible bytes that compression takes a few seconds: a window to kill in.
    mkdirSync(path.join(root, 'live', 'assets', 'video'));
    for (let i = 0; i < 8; i++) writeFileSync(path.join(root, 'live', 'assets', 'video', `clip${i}.bin`), randomBytes(32 << 20));
  }
  const home = path.join(root, 'home');
  const r = await runCli(['env', 'import', writeEnvFile(root, demoEnvironment(root))], home);
  expect(r.code, r.stderr).toBe(0);
  return { root, home, sets: path.join(root, 'sets') };
}

/** Starts a backup in the background; resolves once `ready` says it reached the point wanted. */
function startBackup(home: string, stallAt?: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, 'backup', '--env', 'prod'], {
    env: { ...process.env, LIFEBOAT_HOME: home, ...(stallAt ? { LIFEBOAT_TEST_STALL: stallAt } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stderr: () => err };
}

async function until(what: string, test: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Every non-hidden folder in the location is a complete set: it has a manifest and passes a drill. */
async function onlyCompleteSets(home: string, sets: string): Promise<string[]> {
  const visible = existsSync(sets) ? readdirSync(sets).filter((n) => !n.startsWith('.')) : [];
  for (const id of visible) {
    expect(existsSync(path.join(sets, id, 'manifest.json')), `${id} looks like a set but has no manifest`).toBe(true);
    const drill = await runCli(['drill', '--env', 'prod', '--set', id], home);
    expect(drill.code, drill.stdout + drill.stderr).toBe(0);
  }
  return visible;
}

describe('kill -9 of a backup', () => {
  for (const point of ['backup:locked', 'backup:artifacts-written', 'backup:manifest-written', 'backup:sealed']) {
    it(`at ${point}: no set looks complete unless it is; the next run cleans up and reports`, async () => {
      const { home, sets } = await setup();
      const run = startBackup(home, point);
      await until(`the run to stall at ${point}`, () => run.stderr().includes(`stalled at ${point}`));
      await kill9(run.child);

      const afterKill = await onlyCompleteSets(home, sets);
      expect(afterKill.length).toBe(point === 'backup:sealed' ? 1 : 0);
      const partials = readdirSync(sets).filter((n) => n.startsWith('.partial-'));
      expect(partials.length).toBe(point === 'backup:artifacts-written' || point === 'backup:manifest-written' ? 1 : 0);

      const next = await runCli(['backup', '--env', 'prod', '--json'], home);
      expect(next.code, next.stderr).toBe(0);
      const result = jsonOf<{ id: string; cleaned: string[] }>(next);
      expect(result.cleaned.some((c) => c.startsWith('lock of a killed backup'))).toBe(true);
      if (partials.length) expect(result.cleaned).toContain(`partial folder ${partials[0]} of an interrupted backup`);
      expect(readdirSync(sets).filter((n) => n.startsWith('.partial-'))).toEqual([]);
      expect((await onlyCompleteSets(home, sets)).length).toBe(afterKill.length + 1);
    });
  }

  it('in the middle of compressing a large folder: the partial folder is removed by the next run', async () => {
    const { home, sets } = await setup(true);
    const run = startBackup(home);
    const growing = () => {
      const partial = existsSync(sets) ? readdirSync(sets).find((n) => n.startsWith('.partial-')) : undefined;
      const tar = partial ? path.join(sets, partial, 'assets.tar.gz') : '';
      return !!partial && existsSync(tar) && statSync(tar).size > 1 << 20;
    };
    await until('the archive to be half written', growing);
    await kill9(run.child);
    expect(await onlyCompleteSets(home, sets)).toEqual([]);
    const next = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(next.code, next.stderr).toBe(0);
    expect(jsonOf<{ cleaned: string[] }>(next).cleaned.filter((c) => c.startsWith('partial folder'))).toHaveLength(1);
    expect(await onlyCompleteSets(home, sets)).toHaveLength(1);
  });
});

describe('two backups of one environment at once', () => {
  it('the second is refused with exit 3, naming the holder; the first then completes', async () => {
    const { home, sets } = await setup();
    const first = startBackup(home, 'backup:locked');
    await until('the first run to hold the lock', () => first.stderr().includes('stalled at backup:locked'));
    const second = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(second.code).toBe(3);
    const { error } = jsonOf<{ error: { code: string; message: string; hint: string } }>(second);
    expect(error.code).toBe('LOCKED');
    expect(error.message).toContain(`process ${first.child.pid}`);
    expect(error.hint).toMatch(/Wait for that run to finish/);
    expect(readdirSync(sets).filter((n) => !n.startsWith('.'))).toEqual([]);
    await kill9(first.child);
    const activity = jsonOf<{ action: string; outcome: string }[]>(await runCli(['activity', '--env', 'prod', '--json'], home));
    expect(activity.some((a) => a.action === 'backup' && a.outcome === 'refused')).toBe(true);
  });

  it('an in-process run and a CLI run exclude each other too (the web host and cron)', async () => {
    const { home } = await setup(true);
    const { Engine } = await import('../../electron/engine/engine.js');
    const engine = new Engine(home, 'test');
    try {
      const running = engine.call('backup.run', { env: 'prod' });
      await new Promise((r) => setTimeout(r, 300));
      const second = await runCli(['backup', '--env', 'prod'], home);
      expect(second.code).toBe(3);
      expect(second.stderr).toContain('shop/prod is busy');
      await running;
    } finally {
      engine.close();
    }
  });
});

describe('cancellation', () => {
  it('aborting a backup leaves nothing behind and says so', async () => {
    const { home, sets } = await setup(true);
    const { Engine } = await import('../../electron/engine/engine.js');
    const engine = new Engine(home, 'test');
    try {
      const controller = new AbortController();
      let sawBytes = false;
      const run = engine.call('backup.run', { env: 'prod' }, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytesDone > 4 << 20 && !sawBytes) {
            sawBytes = true;
            controller.abort();
          }
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(sawBytes).toBe(true);
      expect(readdirSync(sets).filter((n) => !n.startsWith('.lifeboat-'))).toEqual([]);
      const activity = await engine.call('activity.list', { env: 'prod' });
      expect(activity[0]).toMatchObject({ action: 'backup', outcome: 'cancelled' });
    } finally {
      engine.close();
    }
  });
});
