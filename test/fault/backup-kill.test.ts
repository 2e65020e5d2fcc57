import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDrill } from '../../electron/engine/drill.js';
import { Engine } from '../../electron/engine/engine.js';
import { makeAppDb, makeAssets } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { kill9, startCli, until, untilStalled } from '../support/kill.js';
import { jsonOf, runCli, useTempDirs } from '../support/tools.js';

/**
 * Only the process being killed (or refused) is a CLI run; the set-up, the drills and the next
 * run are in this process, on the same LIFEBOAT_HOME and location. Named fault points, not the
 * size of the data, decide where a run is stopped.
 */
const tempDir = useTempDirs();
const engineFor = useEngines();

async function setup() {
  const root = tempDir();
  mkdirSync(path.join(root, 'live', 'assets'), { recursive: true });
  makeAppDb(path.join(root, 'live', 'shop.db'), { rows: 2000, wal: true });
  makeAssets(path.join(root, 'live', 'assets'));
  const home = path.join(root, 'home');
  const engine = new Engine(home, 'test');
  await engine.call('env.save', { environment: demoEnvironment(root) });
  engine.close();
  return { root, home, sets: path.join(root, 'sets') };
}

/** The next backup, as cron or the app would start it after the kill. */
async function nextBackup(home: string): Promise<{ id: string; cleaned: string[] }> {
  const engine = new Engine(home, 'test');
  try {
    return await engine.call('backup.run', { env: 'prod' });
  } finally {
    engine.close();
  }
}

/** Every non-hidden folder in the location is a complete set: it has a manifest and passes a drill. */
async function onlyCompleteSets(home: string, sets: string): Promise<string[]> {
  const visible = existsSync(sets) ? readdirSync(sets).filter((n) => !n.startsWith('.')) : [];
  for (const id of visible) {
    expect(existsSync(path.join(sets, id, 'manifest.json')), `${id} looks like a set but has no manifest`).toBe(true);
    const report = await runDrill(path.join(sets, id), { envKey: 'shop/prod', scratchRoot: path.join(home, 'scratch') });
    expect(report.passed, JSON.stringify(report.checks.filter((c) => c.status === 'FAIL'))).toBe(true);
  }
  return visible;
}

const partials = (sets: string) => (existsSync(sets) ? readdirSync(sets).filter((n) => n.startsWith('.partial-')) : []);

describe('kill -9 of a backup', () => {
  for (const point of ['backup:locked', 'backup:artifacts-written', 'backup:manifest-written', 'backup:sealed']) {
    it(`at ${point}: no set looks complete unless it is; the next run cleans up and reports`, async () => {
      const { home, sets } = await setup();
      const run = startCli(['backup', '--env', 'prod'], home, point);
      await untilStalled(run, point);
      await kill9(run);

      const afterKill = await onlyCompleteSets(home, sets);
      expect(afterKill.length).toBe(point === 'backup:sealed' ? 1 : 0);
      const left = partials(sets);
      expect(left.length).toBe(point === 'backup:artifacts-written' || point === 'backup:manifest-written' ? 1 : 0);

      const result = await nextBackup(home);
      expect(result.cleaned.some((c) => c.startsWith('lock of a killed backup'))).toBe(true);
      if (left.length) expect(result.cleaned).toContain(`partial folder ${left[0]} of an interrupted backup`);
      expect(partials(sets)).toEqual([]);
      expect((await onlyCompleteSets(home, sets)).length).toBe(afterKill.length + 1);
    });
  }

  it('in the middle of writing the archive: the partial folder is removed by the next run', async () => {
    const { home, sets } = await setup();
    const run = startCli(['backup', '--env', 'prod'], home, 'backup:mid-archive');
    await untilStalled(run, 'backup:mid-archive');
    const partial = partials(sets)[0]!;
    expect(statSync(path.join(sets, partial, 'assets.tar.gz')).isFile()).toBe(true);
    expect(existsSync(path.join(sets, partial, 'assets.files.jsonl'))).toBe(false);
    await kill9(run);
    expect(await onlyCompleteSets(home, sets)).toEqual([]);
    const result = await nextBackup(home);
    expect(result.cleaned).toContain(`partial folder ${partial} of an interrupted backup`);
    expect(partials(sets)).toEqual([]);
    expect(await onlyCompleteSets(home, sets)).toHaveLength(1);
  });
});

describe('two backups of one environment at once', () => {
  const stall = process.env.LIFEBOAT_TEST_STALL;
  afterEach(() => {
    if (stall === undefined) delete process.env.LIFEBOAT_TEST_STALL;
    else process.env.LIFEBOAT_TEST_STALL = stall;
  });

  it('the second is refused with exit 3, naming the holder; the first then completes', async () => {
    const { home, sets } = await setup();
    const first = startCli(['backup', '--env', 'prod'], home, 'backup:locked');
    await untilStalled(first, 'backup:locked');
    const second = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(second.code).toBe(3);
    const { error } = jsonOf<{ error: { code: string; message: string; hint: string } }>(second);
    expect(error.code).toBe('LOCKED');
    expect(error.message).toContain(`process ${first.child.pid}`);
    expect(error.hint).toMatch(/Wait for that run to finish/);
    expect(readdirSync(sets).filter((n) => !n.startsWith('.'))).toEqual([]);
    await kill9(first);
    const activity = await engineFor(home).call('activity.list', { env: 'prod' });
    expect(activity.some((a) => a.action === 'backup' && a.outcome === 'refused')).toBe(true);
  });

  it('an in-process run and a CLI run exclude each other too (the web host and cron)', async () => {
    const { home, sets } = await setup();
    const engine = engineFor(home);
    // The in-process run holds the lock (frozen there) while the CLI's is refused.
    process.env.LIFEBOAT_TEST_STALL = 'backup:locked';
    const controller = new AbortController();
    const running = engine.call('backup.run', { env: 'prod' }, { signal: controller.signal });
    await until('the in-process run to hold the lock', () => existsSync(path.join(sets, '.lifeboat-shop_prod.holder')));
    // The holder file is written just before the stall point: the variable stays set until the run is
    // cancelled (clearing it now would let a slow run past the point), and the CLI gets none of it.
    const second = await runCli(['backup', '--env', 'prod'], home, { LIFEBOAT_TEST_STALL: '' });
    expect(second.code, second.stderr).toBe(3);
    expect(second.stderr).toContain('shop/prod is busy');
    controller.abort();
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' });
    delete process.env.LIFEBOAT_TEST_STALL;

    // And the other way round: a CLI run holds it, the in-process run is refused.
    const cli = startCli(['backup', '--env', 'prod'], home, 'backup:locked');
    await untilStalled(cli, 'backup:locked');
    await expect(engine.call('backup.run', { env: 'prod' })).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`process ${cli.child.pid}`) });
    await kill9(cli);
    expect((await engine.call('backup.run', { env: 'prod' })).cleaned.some((c) => c.startsWith('lock of a killed backup'))).toBe(true);
  });
});

describe('cancellation', () => {
  const stall = process.env.LIFEBOAT_TEST_STALL;
  afterEach(() => {
    if (stall === undefined) delete process.env.LIFEBOAT_TEST_STALL;
    else process.env.LIFEBOAT_TEST_STALL = stall;
  });

  it('aborting a backup while it writes the archive leaves nothing behind and says so', async () => {
    const { home, sets } = await setup();
    const engine = engineFor(home);
    process.env.LIFEBOAT_TEST_STALL = 'backup:mid-archive';
    const controller = new AbortController();
    const run = engine.call('backup.run', { env: 'prod' }, { signal: controller.signal });
    const archive = () => partials(sets).some((p) => existsSync(path.join(sets, p, 'assets.tar.gz')));
    await until('the archive to be half written', archive);
    controller.abort();
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(readdirSync(sets).filter((n) => !n.startsWith('.lifeboat-'))).toEqual([]);
    const activity = await engine.call('activity.list', { env: 'prod' });
    expect(activity[0]).toMatchObject({ action: 'backup', outcome: 'cancelled' });
  });
});
