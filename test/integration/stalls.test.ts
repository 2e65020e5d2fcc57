import { existsSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { useStallingPipes } from '../support/stall.js';
import { failure, useTempDirs } from '../support/tools.js';
import type { Engine } from '../../electron/engine/engine.js';
import { PARTIAL_PREFIX } from '../../electron/engine/set-id.js';

const temp = useTempDirs();
const engineAt = useEngines();
const stallingPipe = useStallingPipes();

/** Folders in the location that are sets or partial sets (not the lock, the holder or a probe). */
function setFolders(location: string): string[] {
  return existsSync(location) ? readdirSync(location).filter((n) => n.startsWith('shop_prod_') || n.startsWith(PARTIAL_PREFIX)) : [];
}

/** An engine with the demo environment saved, its live data made and, when asked, one sealed set. */
async function setup(opts: { sealed?: boolean } = {}) {
  const root = temp();
  makeLiveData(root);
  const engine = engineAt(path.join(root, 'home'));
  await engine.call('env.save', { environment: demoEnvironment(root) });
  const set = opts.sealed ? await engine.call('backup.run', { env: 'prod' }) : null;
  return { root, engine, location: path.join(root, 'sets'), set };
}

/** A folder in the location that looks like a set whose manifest never answers: a location on a hung disk. */
function hungSetIn(location: string) {
  const dir = path.join(location, 'shop_prod_20250101_000000');
  mkdirSync(dir, { recursive: true });
  return { dir, pipe: stallingPipe(path.join(dir, 'manifest.json')) };
}

/** Lets the stuck read go and waits until the abandoned work behind it has ended. */
async function letGo(engine: Engine, pipe: { release(): void }) {
  pipe.release();
  await engine.whenIdle();
}

describe('a job that stops making progress fails with STALLED', () => {
  it('a backup whose location stops answering fails, naming the stage and the path, and is logged', async () => {
    const { engine, location } = await setup();
    engine.stallMs = 400;
    const hung = hungSetIn(location);
    try {
      const err = await failure(engine.call('backup.run', { env: 'prod' }));
      expect(err.code).toBe('STALLED');
      expect(err.message).toContain('backup of shop/prod made no progress');
      expect(err.message).toContain(location);
      expect(err.hint).toMatch(/LIFEBOAT_STALL_SECONDS/);
      const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
      expect(entry).toMatchObject({ action: 'backup', outcome: 'failed' });
      expect(entry!.summary).toContain('made no progress');
      expect(setFolders(location)).toEqual(['shop_prod_20250101_000000']);
    } finally {
      await letGo(engine, hung.pipe);
    }
  });

  it('a drill whose artifact never answers fails with STALLED at its hash stage', async () => {
    const { engine, location, set } = await setup({ sealed: true });
    engine.stallMs = 400;
    const artifact = path.join(set!.path, 'db.sqlite.gz');
    rmSync(artifact);
    const pipe = stallingPipe(artifact);
    try {
      const err = await failure(engine.call('drill.run', { env: 'prod', set: set!.id }));
      expect(err.code).toBe('STALLED');
      expect(err.message).toMatch(/drill of shop\/prod made no progress .*stage "hash"/);
      expect(err.message).toContain(location);
      const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
      expect(entry).toMatchObject({ action: 'drill', outcome: 'failed' });
    } finally {
      await letGo(engine, pipe);
    }
  });

  it('a restore whose set never answers fails with STALLED and leaves the live data as it was', async () => {
    const { root, engine, set } = await setup({ sealed: true });
    engine.stallMs = 400;
    const artifact = path.join(set!.path, 'assets.tar.gz');
    rmSync(artifact);
    const pipe = stallingPipe(artifact);
    try {
      const err = await failure(engine.call('restore.run', { env: 'prod', set: set!.id, confirm: 'prod' }));
      expect(err.code).toBe('STALLED');
      expect(err.message).toContain('restore of shop/prod made no progress');
      const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
      expect(entry).toMatchObject({ action: 'restore', outcome: 'failed' });
      expect(existsSync(path.join(root, 'live', 'shop.db'))).toBe(true);
    } finally {
      await letGo(engine, pipe);
    }
  });

  it('a prune whose location stops answering fails with STALLED', async () => {
    const { engine, location } = await setup({ sealed: true });
    const env = await engine.call('env.get', { env: 'prod' });
    await engine.call('env.save', { environment: { ...env, retention: { keepLast: 1 } } });
    engine.stallMs = 400;
    const hung = hungSetIn(location);
    try {
      const err = await failure(engine.call('sets.prune', { env: 'prod', dryRun: false, confirm: 'prod' }));
      expect(err.code).toBe('STALLED');
      expect(err.message).toContain('prune of shop/prod made no progress');
    } finally {
      await letGo(engine, hung.pipe);
    }
  });

  it('a dump program silent for longer than the bound is governed by its own time limit, not the watchdog', async () => {
    const root = temp();
    const engine = engineAt(path.join(root, 'home'));
    const dumpInput = path.join(root, 'dump-input');
    const silent = stallingPipe(dumpInput);
    const commandEnv = (name: string, location: string) => ({
      app: 'shop',
      name,
      protection: 'normal',
      location,
      sources: [{ kind: 'command', name: 'slow', dump: { argv: ['cat', dumpInput] }, restore: { argv: ['sh', '-c', 'cat > /dev/null'] } }],
    });
    await engine.call('env.save', { environment: commandEnv('prod', path.join(root, 'sets')) });
    await engine.call('env.save', { environment: commandEnv('hung', path.join(root, 'hung-sets')) });
    engine.stallMs = 2000;
    engine.cancelGraceMs = 500;
    const held = engine.call('backup.run', { env: 'shop/prod' });
    await silent.reading;
    // A job with the same bound that makes no progress at all, started after the program: once it has
    // stalled, the program has been silent for longer than the bound too.
    const control = path.join(root, 'hung-sets', 'shop_hung_20250101_000000');
    mkdirSync(control, { recursive: true });
    const hung = stallingPipe(path.join(control, 'manifest.json'));
    expect((await failure(engine.call('backup.run', { env: 'shop/hung' }))).code).toBe('STALLED');
    silent.release('the dump, at last\n');
    const sealed = await held;
    expect(sealed.artifacts.map((a) => a.file)).toEqual(['slow.out.gz']);
    await letGo(engine, hung);
  });
});

describe('cancel ends a job within seconds, even when a read never returns', () => {
  it('a backup stuck on its location ends CANCELLED, leaves no partial set and is logged', async () => {
    const { engine, location } = await setup();
    engine.cancelGraceMs = 500;
    const hung = hungSetIn(location);
    try {
      const run = engine.call('backup.run', { env: 'prod' }, { job: 'stuck' });
      await hung.pipe.reading;
      expect(await engine.call('job.cancel', { job: 'stuck' })).toEqual({ cancelled: true });
      const err = await failure(run);
      expect(err.code).toBe('CANCELLED');
      expect(err.message).toContain('did not return');
      const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
      expect(entry).toMatchObject({ action: 'backup', outcome: 'cancelled' });
      expect(setFolders(location)).toEqual(['shop_prod_20250101_000000']);
      // The job's name is free again at once.
      expect(await engine.call('job.cancel', { job: 'stuck' })).toEqual({ cancelled: false });
    } finally {
      await letGo(engine, hung.pipe);
    }
    // Once the read returns, the abandoned run ends and releases the lock without logging twice.
    expect((await engine.call('activity.list', { env: 'prod', limit: 10 })).filter((a) => a.action === 'backup')).toHaveLength(1);
    expect(setFolders(location)).toEqual(['shop_prod_20250101_000000']);
    rmSync(hung.dir, { recursive: true });
    const next = await engine.call('backup.run', { env: 'prod' });
    expect(setFolders(location)).toEqual([next.id]);
  });

  it('a backup whose source read stalls (a dump reading a pipe nobody writes) ends CANCELLED and removes its partial set', async () => {
    const root = temp();
    const engine = engineAt(path.join(root, 'home'));
    const input = path.join(root, 'never-written');
    const pipe = stallingPipe(input);
    const location = path.join(root, 'sets');
    await engine.call('env.save', {
      environment: {
        app: 'shop',
        name: 'prod',
        protection: 'normal',
        location,
        sources: [{ kind: 'command', name: 'dump', dump: { argv: ['cat', input] }, restore: { argv: ['sh', '-c', 'cat > /dev/null'] } }],
      },
    });
    const run = engine.call('backup.run', { env: 'prod' }, { job: 'b' });
    await pipe.reading;
    expect(readdirSync(location).filter((n) => n.startsWith(PARTIAL_PREFIX))).toHaveLength(1);
    await engine.call('job.cancel', { job: 'b' });
    expect((await failure(run)).code).toBe('CANCELLED');
    expect(setFolders(location)).toEqual([]);
    const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
    expect(entry).toMatchObject({ action: 'backup', outcome: 'cancelled' });
  });

  it('a drill stuck on an artifact ends CANCELLED and is logged', async () => {
    const { engine, set } = await setup({ sealed: true });
    engine.cancelGraceMs = 500;
    const artifact = path.join(set!.path, 'assets.tar.gz');
    rmSync(artifact);
    const pipe = stallingPipe(artifact);
    try {
      const run = engine.call('drill.run', { env: 'prod', set: set!.id }, { job: 'd' });
      await pipe.reading;
      await engine.call('job.cancel', { job: 'd' });
      const err = await failure(run);
      expect(err.code).toBe('CANCELLED');
      const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
      expect(entry).toMatchObject({ action: 'drill', outcome: 'cancelled' });
    } finally {
      await letGo(engine, pipe);
    }
  });
});
