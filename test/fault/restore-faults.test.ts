import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSha, makeAppDb, makeAssets, treeFingerprint } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { Engine } from '../../electron/engine/engine.js';
import { CLI, jsonOf, runCli, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
});

/** A small tmpfs the test mounts itself: a disk that fills up. Needs root (CI runs as root). */
function smallDisk(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mounting a tmpfs at ${dir} failed (${r.stderr.trim()}): the full-disk tests need root and the mount command (Debian package mount)`);
  mounts.push(dir);
}

async function setup(opts: { liveRoot?: string; location?: string; setup?: (live: string) => void } = {}) {
  const root = tempDir();
  const live = opts.liveRoot ?? path.join(root, 'live');
  mkdirSync(path.join(live, 'assets'), { recursive: true });
  makeAppDb(path.join(live, 'shop.db'), { rows: 500, wal: true });
  makeAssets(path.join(live, 'assets'));
  opts.setup?.(live);
  const home = path.join(root, 'home');
  const env = demoEnvironment(root, { protection: 'normal', location: opts.location ?? path.join(root, 'sets') });
  env.sources = [
    { kind: 'sqlite', name: 'db', path: path.join(live, 'shop.db') },
    { kind: 'files', name: 'assets', path: path.join(live, 'assets'), include: ['**/*'], exclude: [] },
  ];
  // Set up in this process: the CLI runs only where its own behaviour is what is tested.
  const set = await inProcess(home, async (e) => {
    await e.call('env.save', { environment: env });
    return e.call('backup.run', { env: 'prod' });
  });
  return { root, home, live, db: path.join(live, 'shop.db'), assets: path.join(live, 'assets'), set: { id: set.id, path: set.path }, location: env.location };
}

/** Runs `work` on an engine of `home`, closed after. */
async function inProcess<T>(home: string, work: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = new Engine(home, 'test');
  try {
    return await work(engine);
  } finally {
    engine.close();
  }
}

function change(live: string): void {
  writeFileSync(path.join(live, 'assets', 'after-backup.txt'), 'new');
  const db = new Database(path.join(live, 'shop.db'));
  db.exec('DELETE FROM orders WHERE id > 100');
  db.close();
}

function fingerprint(db: string, assets: string): { db: string; assets: string[] } {
  return { db: fileSha(db), assets: treeFingerprint(assets) };
}

/** No staging or moved-aside copies are left beside the targets. */
function leftovers(live: string): string[] {
  return [...readdirSync(live), ...readdirSync(path.join(live, 'assets'))].filter((n) => n.includes('.lifeboat-'));
}

function startRestore(home: string, id: string, stallAt: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, 'restore', '--env', 'prod', '--set', id], {
    env: { ...process.env, LIFEBOAT_HOME: home, LIFEBOAT_TEST_STALL: stallAt },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stderr: () => err };
}

describe('kill -9 of a restore', () => {
  for (const point of ['restore:safety-done', 'restore:staged', 'restore:between-renames', 'restore:before-verify']) {
    it(`at ${point}: the next command leaves the target wholly old, and the safety set exists`, async () => {
      const { home, live, db, assets, set } = await setup();
      change(live);
      const before = fingerprint(db, assets);
      const run = startRestore(home, set.id, point);
      const end = Date.now() + 180_000;
      while (!run.stderr().includes(`stalled at ${point}`)) {
        if (Date.now() > end || run.child.exitCode !== null) throw new Error(`the restore did not reach ${point}: ${run.stderr()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise<void>((resolve) => {
        run.child.once('close', () => resolve());
        run.child.kill('SIGKILL');
      });
      if (point === 'restore:between-renames') expect(existsSync(db)).toBe(false); // the first source is half swapped

      const next = await runCli(['list', '--env', 'prod', '--json'], home);
      expect(next.code, next.stderr).toBe(0);
      expect(fingerprint(db, assets)).toEqual(before);
      expect(leftovers(live)).toEqual([]);
      const sets = jsonOf<{ id: string; label: string | null }[]>(next);
      expect(sets.filter((s) => s.label === 'pre-restore')).toHaveLength(1);
      const activity = await inProcess(home, (e) => e.call('activity.list', { env: 'prod' }));
      expect(activity.find((a) => a.action === 'restore.recover')?.summary).toMatch(/was interrupted .* rolled back: the data is as it was before it/);
      // And the restore can then be done for real.
      await inProcess(home, (e) => e.call('restore.run', { env: 'prod', set: set.id }));
      expect(fingerprint(db, assets)).not.toEqual(before);
    });
  }
});

describe('a full disk', () => {
  it('during staging: "disk full at …", live data untouched, temporary files removed', async () => {
    const root = tempDir();
    const live = path.join(root, 'disk');
    // A tmpfs with few inodes: the pre-flight's byte count passes, the many small files do not fit.
    smallDisk(live, 'size=64m,nr_inodes=400');
    const { home, db, assets, set } = await setup({
      liveRoot: live,
      location: path.join(root, 'sets'),
      setup: (l) => {
        mkdirSync(path.join(l, 'assets', 'many'));
        for (let i = 0; i < 250; i++) writeFileSync(path.join(l, 'assets', 'many', `f${i}.txt`), `file ${i}`);
      },
    });
    change(live);
    const before = fingerprint(db, assets);
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--json'], home);
    expect(r.code, r.stdout).toBe(1);
    const { error } = jsonOf<{ error: { code: string; message: string; hint: string } }>(r);
    expect(error.code, error.message).toBe('DISK_FULL');
    expect(error.message).toMatch(/disk full at /i);
    expect(`${error.message} ${error.hint}`).toMatch(/need/);
    expect(fingerprint(db, assets)).toEqual(before);
    expect(leftovers(live)).toEqual([]);
  });

  it('during the safety backup: a clear error naming the disk and what it needs, live data untouched', async () => {
    const root = tempDir();
    const location = path.join(root, 'small-location');
    smallDisk(location, 'size=3m');
    const { home, live, db, assets, set } = await setup({ location });
    // Now the live data outgrows what the location has left for a safety backup.
    writeFileSync(path.join(live, 'assets', 'big.bin'), randomBytes(4 << 20));
    const before = fingerprint(db, assets);
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--json'], home);
    expect([1, 3]).toContain(r.code);
    const { error } = jsonOf<{ error: { code: string; message: string; hint: string } }>(r);
    expect(['DISK_FULL', 'NOT_ENOUGH_SPACE']).toContain(error.code);
    expect(error.message).toMatch(/disk full at .*small-location/i);
    expect(error.message).toMatch(/need/);
    expect(fingerprint(db, assets)).toEqual(before);
    expect(readdirSync(location).filter((n) => n.startsWith('.partial-'))).toEqual([]);
    expect(leftovers(live)).toEqual([]);
  });

  it('during a backup: DISK_FULL, exit 1, no partial set left', async () => {
    const root = tempDir();
    const location = path.join(root, 'tiny');
    smallDisk(location, 'size=1m');
    const live = path.join(root, 'live');
    mkdirSync(path.join(live, 'assets'), { recursive: true });
    makeAppDb(path.join(live, 'shop.db'));
    writeFileSync(path.join(live, 'assets', 'big.bin'), randomBytes(3 << 20));
    const home = path.join(root, 'home');
    const env = demoEnvironment(root, { location });
    env.sources = [
      { kind: 'sqlite', name: 'db', path: path.join(live, 'shop.db') },
      { kind: 'files', name: 'assets', path: path.join(live, 'assets'), include: ['**/*'], exclude: [] },
    ];
    await inProcess(home, (e) => e.call('env.save', { environment: env }));
    const r = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(r.code).toBe(1);
    expect(jsonOf<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'DISK_FULL' });
    expect(readdirSync(location).filter((n) => !n.startsWith('.lifeboat-'))).toEqual([]);
  });
});

describe('recovery of an interrupted restore', () => {
  it('with its backup location unreachable, says so and keeps every other command working', async () => {
    const root = tempDir();
    const home = path.join(root, 'home');
    mkdirSync(path.join(home, 'restores'), { recursive: true });
    const gone = path.join(root, 'unmounted-disk', 'sets');
    writeFileSync(
      path.join(home, 'restores', 'r1.json'),
      JSON.stringify({
        id: 'r1',
        env: 'shop/prod',
        location: gone,
        setId: 'shop_prod_20261122_020000',
        pid: 1,
        createdAt: new Date().toISOString(),
        state: 'swapping',
        sources: [
          {
            source: 'db',
            target: path.join(root, 'live', 'shop.db'),
            staged: path.join(root, 'live', '.shop.db.staged'),
            moves: [{ from: path.join(root, 'live', '.shop.db.staged'), to: path.join(root, 'live', 'shop.db') }],
          },
        ],
      }),
    );
    const r = await runCli(['env', 'list'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Note: An interrupted restore of shop_prod_20261122_020000 could not be rolled back yet: its backup location ${gone} cannot be opened`);
    expect(existsSync(path.join(home, 'restores', 'r1.json'))).toBe(true);
  });

  it('tells the operator on the next command that it was rolled back', async () => {
    const { home, live, set } = await setup();
    change(live);
    const run = startRestore(home, set.id, 'restore:staged');
    while (!run.stderr().includes('stalled at restore:staged')) await new Promise((r) => setTimeout(r, 20));
    await new Promise<void>((resolve) => {
      run.child.once('close', () => resolve());
      run.child.kill('SIGKILL');
    });
    const next = await runCli(['env', 'list'], home);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/^Note: A restore of shop_prod_\S+ was interrupted \(staging\) and has been rolled back/m);
  });
});
