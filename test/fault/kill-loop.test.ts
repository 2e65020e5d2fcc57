import Database from 'better-sqlite3';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDrill } from '../../electron/engine/drill.js';
import { Engine } from '../../electron/engine/engine.js';
import { fileSha, makeAppDb, makeAssets, treeFingerprint } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { kill9, startCli, until, untilStalled, type Running } from '../support/kill.js';
import { Prng } from '../support/prng.js';
import { testSeed } from '../support/seed.js';
import { sqlite3, useTempDirs } from '../support/tools.js';

/**
 * The kill loop: seeded `kill -9` of a real CLI backup and of a real in-place restore, at named
 * fault points and at random moments of their work. Only the process being killed is spawned;
 * every check after a kill runs in this process (the drill, the recovery, the next backup).
 * After every kill: each folder that looks like a set passes its drill, the live data is wholly
 * as before or wholly the set (rows read back with `sqlite3`, files by hash), and the next run
 * gets the lock and says what it cleaned.
 */
const tempDir = useTempDirs();
/** Kills that must land (a run that finished before its kill does not count). */
const KILLS = 20;
/** Twenty runs each started, killed and checked: minutes on a loaded machine, where a hang is caught by each wait's own bound. */
const LOOP_TIMEOUT_MS = 900_000;
const HOLDER = '.lifeboat-shop_prod.holder';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Live data small enough to be cheap: the named fault points, not the size, put kills in every
 * phase (`backup:mid-archive` stops a run with its archive half written).
 */
function makeLive(root: string): void {
  const assets = path.join(root, 'live', 'assets');
  mkdirSync(assets, { recursive: true });
  makeAppDb(path.join(root, 'live', 'shop.db'), { rows: 300, wal: true });
  makeAssets(assets);
}

interface LiveState {
  rows: string;
  assets: string;
}

/** What an operator would compare: every row (through the `sqlite3` command) and every asset's path, mode and hash. */
function liveState(root: string): LiveState {
  const rows = sqlite3(path.join(root, 'live', 'shop.db'), 'SELECT * FROM customers; SELECT * FROM orders; SELECT * FROM ledger;');
  return { rows: sha(rows), assets: sha(treeFingerprint(path.join(root, 'live', 'assets')).join('\n')) };
}

/** Folders of a location that look like sets (not hidden, not partial). */
const visibleSets = (sets: string) => (existsSync(sets) ? readdirSync(sets).filter((n) => !n.startsWith('.')) : []);
const partialOf = (sets: string) => readdirSync(sets).find((n) => n.startsWith('.partial-'));

/**
 * Every folder that looks like a set has a manifest and passes its drill; drills only those not
 * drilled yet (the sets of the undisturbed runs after each kill are marked without a drill).
 */
async function setsAreWhole(home: string, sets: string, drilled: Set<string>, where: string): Promise<void> {
  for (const id of visibleSets(sets)) {
    if (drilled.has(id)) continue;
    expect(existsSync(path.join(sets, id, 'manifest.json')), `${where}: ${id} looks like a set but has no manifest`).toBe(true);
    const report = await runDrill(path.join(sets, id), { envKey: 'shop/prod', scratchRoot: path.join(home, 'scratch') });
    expect(report.passed, `${where}: ${id} looks whole but fails its drill: ${JSON.stringify(report.checks.filter((c) => c.status === 'FAIL'))}`).toBe(true);
    drilled.add(id);
  }
}

type Plan = { kind: 'stall'; point: string } | { kind: 'early'; ms: number } | { kind: 'work'; ms: number };

const describePlan = (p: Plan) => (p.kind === 'stall' ? `at ${p.point}` : p.kind === 'early' ? `${p.ms} ms after start` : `${p.ms} ms into the work`);

/**
 * The seeded kill plan: every named point once, a few kills while the process starts, and the
 * rest at random moments after the run took its lock, spread over how long the work takes.
 */
function killPlan(rng: Prng, points: string[], startMs: number, workMs: number): () => Plan {
  const fixed: Plan[] = rng.shuffle([...points.map((point): Plan => ({ kind: 'stall', point })), { kind: 'early', ms: 0 }, { kind: 'early', ms: 0 }]);
  return () => {
    const p = fixed.shift() ?? { kind: 'work', ms: 0 };
    if (p.kind === 'early') return { kind: 'early', ms: rng.int(0, Math.max(1, startMs)) };
    if (p.kind === 'work') return { kind: 'work', ms: rng.int(0, Math.max(1, Math.round(workMs * 1.1))) };
    return p;
  };
}

/** Runs the CLI and kills it as planned; resolves once it is gone. */
async function killAsPlanned(args: string[], home: string, sets: string, plan: Plan): Promise<Running> {
  const run = startCli(args, home, plan.kind === 'stall' ? plan.point : undefined);
  if (plan.kind === 'stall') await untilStalled(run, plan.point);
  else if (plan.kind === 'early') await new Promise((r) => setTimeout(r, plan.ms));
  else {
    await until('the run to take its lock', () => !!run.exit() || existsSync(path.join(sets, HOLDER)), 180_000, 2);
    await new Promise((r) => setTimeout(r, plan.ms));
  }
  await kill9(run);
  return run;
}

/** A clean run of the same command, timed: how long the process takes to start, and its work. */
async function calibrate(args: string[], home: string, sets: string): Promise<{ startMs: number; workMs: number }> {
  const t0 = performance.now();
  const run = startCli(args, home);
  await until('the calibration run to take its lock', () => !!run.exit() || existsSync(path.join(sets, HOLDER)), 180_000, 2);
  const t1 = performance.now();
  await run.closed;
  expect(run.exit()!.code, run.stderr()).toBe(0);
  return { startMs: Math.round(t1 - t0), workMs: Math.round(performance.now() - t1) };
}

const landed = (run: Running) => run.exit()!.code === null;

describe('kill loop: kill -9 of a backup at seeded points', () => {
  it(
    `${KILLS} kills: every set that looks whole passes its drill, live data is untouched, the next run cleans up`,
    async () => {
      const rng = new Prng(testSeed('the backup kill loop'));
      const root = tempDir();
      makeLive(root);
      const home = path.join(root, 'home');
      const sets = path.join(root, 'sets');
      const setup = new Engine(home, 'test');
      await setup.call('env.save', { environment: demoEnvironment(root) });
      setup.close();
      const before = { ...liveState(root), db: fileSha(path.join(root, 'live', 'shop.db')) };
      const drilled = new Set<string>();
      const args = ['backup', '--env', 'prod'];
      const { startMs, workMs } = await calibrate(args, home, sets);
      await setsAreWhole(home, sets, drilled, 'the calibration run');

      const next = killPlan(rng, ['backup:locked', 'backup:mid-archive', 'backup:artifacts-written', 'backup:manifest-written', 'backup:sealed'], startMs, workMs);
      const phases = new Map<string, number>();
      let kills = 0;
      for (let attempt = 0; kills < KILLS; attempt++) {
        expect(attempt, `only ${kills} of ${attempt} runs were still working when killed`).toBeLessThan(KILLS * 3);
        const plan = next();
        const known = new Set(visibleSets(sets));
        const run = await killAsPlanned(args, home, sets, plan);
        const where = `kill ${attempt} (${describePlan(plan)})`;
        if (!landed(run)) {
          expect(run.exit()!.code, `${where}: the backup failed on its own: ${run.stderr()}`).toBe(0);
        } else kills++;

        // Which phase the kill hit, read off the location.
        const partial = partialOf(sets);
        const holder = existsSync(path.join(sets, HOLDER));
        const inPartial = (f: string) => !!partial && existsSync(path.join(sets, partial, f));
        const phase = !landed(run)
          ? 'finished'
          : visibleSets(sets).some((id) => !known.has(id))
            ? 'sealed, lock not yet released'
            : inPartial('manifest.json')
              ? 'sealing'
              : inPartial('assets.files.jsonl')
                ? 'artifacts written'
                : inPartial('assets.tar.gz')
                  ? 'packing the archive'
                  : partial
                    ? 'snapshot'
                    : holder
                      ? 'locked'
                      : 'starting';
        phases.set(phase, (phases.get(phase) ?? 0) + 1);
        if (plan.kind === 'stall') expect(phase, where).not.toBe('finished');

        // The backup only reads the live data.
        expect(liveState(root), `${where}: the live data changed`).toEqual({ rows: before.rows, assets: before.assets });
        expect(fileSha(path.join(root, 'live', 'shop.db')), `${where}: the live database file changed`).toBe(before.db);
        await setsAreWhole(home, sets, drilled, where);

        // The next run gets the lock, cleans up what the killed one left and says so.
        const engine = new Engine(home, 'test');
        try {
          const result = await engine.call('backup.run', { env: 'prod' });
          if (holder)
            expect(
              result.cleaned.some((c) => c.startsWith('lock of a killed backup')),
              `${where}: ${JSON.stringify(result.cleaned)}`,
            ).toBe(true);
          if (partial) expect(result.cleaned, where).toContain(`partial folder ${partial} of an interrupted backup`);
          if (!holder && !partial) expect(result.cleaned, where).toEqual([]);
          drilled.add(result.id);
        } finally {
          engine.close();
        }
        expect(partialOf(sets), where).toBeUndefined();
        expect(existsSync(path.join(sets, HOLDER)), `${where}: the lock's holder file is left`).toBe(false);
      }
      console.info(`backup kill loop: ${kills} kills by phase ${JSON.stringify(Object.fromEntries(phases))} (work ${workMs} ms)`);
      phases.delete('finished');
      expect([...phases.keys()].length, `the kills hit only ${[...phases.keys()].join(', ')}`).toBeGreaterThanOrEqual(4);
    },
    LOOP_TIMEOUT_MS,
  );
});

describe('kill loop: kill -9 of an in-place restore at seeded points', () => {
  it(
    `${KILLS} kills: after recovery the live data is wholly as before or wholly the set, sets pass their drills, the next run cleans up`,
    async () => {
      const rng = new Prng(testSeed('the restore kill loop'));
      const root = tempDir();
      makeLive(root);
      const home = path.join(root, 'home');
      const sets = path.join(root, 'sets');
      const live = path.join(root, 'live');
      const setup = new Engine(home, 'test');
      await setup.call('env.save', { environment: demoEnvironment(root) });
      const set = await setup.call('backup.run', { env: 'prod' });
      setup.close();
      const fromSet = liveState(root);

      // The data as it is before each restore ("old"): rows changed and still in the WAL (so the
      // restore moves the database and its -wal aside), files changed, added and removed.
      const template = path.join(root, 'live-before');
      mkdirSync(template);
      const db = new Database(path.join(live, 'shop.db'));
      db.pragma('wal_autocheckpoint = 0');
      db.exec(`UPDATE orders SET total_cents = total_cents + 1 WHERE id % 7 = 0; INSERT INTO customers (name, email) VALUES ('Late Customer', 'late@example.test');`);
      for (const f of ['shop.db', 'shop.db-wal']) cpSync(path.join(live, f), path.join(template, f));
      db.close();
      writeFileSync(path.join(live, 'assets', 'notes.txt'), 'buy bread\n');
      rmSync(path.join(live, 'assets', 'docs', 'readme.md'));
      writeFileSync(path.join(live, 'assets', 'images', 'added.png'), randomBytes(5000));
      writeFileSync(path.join(live, 'assets', 'images', 'logo.png'), randomBytes(20_000));
      cpSync(path.join(live, 'assets'), path.join(template, 'assets'), { recursive: true });
      const resetLive = () => {
        rmSync(live, { recursive: true, force: true });
        cpSync(template, live, { recursive: true });
      };
      resetLive();
      const asBefore = liveState(root);
      expect(asBefore.rows).not.toBe(fromSet.rows);
      expect(asBefore.assets).not.toBe(fromSet.assets);
      const liveNames = (names: string[]) => names.filter((n) => n.includes('.lifeboat-'));

      const drilled = new Set<string>();
      const args = ['restore', '--env', 'prod', '--set', set.id, '--confirm', 'prod'];
      resetLive();
      const { startMs, workMs } = await calibrate(args, home, sets);
      expect(liveState(root)).toEqual(fromSet);
      await setsAreWhole(home, sets, drilled, 'the calibration run');

      const points = ['drill:hashed', 'restore:safety-done', 'restore:staged', 'restore:between-renames', 'restore:before-verify', 'restore:committed'];
      const next = killPlan(rng, points, startMs, workMs);
      const phases = new Map<string, number>();
      const outcomes = { 'as before': 0, 'the set': 0 };
      let kills = 0;
      for (let attempt = 0; kills < KILLS; attempt++) {
        expect(attempt, `only ${kills} of ${attempt} runs were still working when killed`).toBeLessThan(KILLS * 3);
        const plan = next();
        resetLive();
        const known = new Set(visibleSets(sets));
        const run = await killAsPlanned(args, home, sets, plan);
        const where = `kill ${attempt} (${describePlan(plan)})`;
        if (!landed(run)) {
          expect(run.exit()!.code, `${where}: the restore failed on its own: ${run.stderr()}`).toBe(0);
        } else kills++;

        // Which phase the kill hit: the journal's state, or the lock and the sets when there is none.
        const journals = readdirSync(path.join(home, 'restores')).filter((n) => n.endsWith('.json'));
        expect(journals.length, where).toBeLessThanOrEqual(1);
        const journal = journals[0] ? (JSON.parse(readFileSync(path.join(home, 'restores', journals[0]), 'utf8')) as { state: string; safetySet?: string }) : null;
        const holder = existsSync(path.join(sets, HOLDER));
        const partial = partialOf(sets);
        const safetyTaken = visibleSets(sets).some((id) => !known.has(id));
        const phase = !landed(run)
          ? 'finished'
          : journal?.state === 'staging'
            ? journal.safetySet
              ? 'staging'
              : 'safety backup'
            : journal
              ? journal.state
              : safetyTaken
                ? 'finishing'
                : holder
                  ? 'pre-flight'
                  : 'starting';
        phases.set(phase, (phases.get(phase) ?? 0) + 1);
        if (plan.kind === 'stall') expect(phase, where).not.toBe('finished');

        // The next start finishes a verified restore and rolls back any other, and says which.
        const engine = new Engine(home, 'test');
        try {
          const notes = await engine.recover();
          if (!journal) expect(notes, where).toEqual([]);
          else if (journal.state === 'committed')
            expect(
              notes.map((n) => n.message),
              where,
            ).toEqual([expect.stringContaining('had finished and been verified when it was interrupted')]);
          else
            expect(
              notes.map((n) => n.message),
              where,
            ).toEqual([expect.stringContaining('has been rolled back: the data is as it was before it')]);
          expect(
            readdirSync(path.join(home, 'restores')).filter((n) => n.endsWith('.json')),
            where,
          ).toEqual([]);

          // Wholly as before or wholly the set: both sources agree, and nothing of the restore is left beside them.
          const now = liveState(root);
          const outcome = now.rows === asBefore.rows && now.assets === asBefore.assets ? 'as before' : now.rows === fromSet.rows && now.assets === fromSet.assets ? 'the set' : 'mixed';
          expect(outcome, `${where} (${phase}): the live data is neither wholly as before nor wholly the set`).not.toBe('mixed');
          const expected = ['committed', 'finishing', 'finished'].includes(phase) ? 'the set' : 'as before';
          expect(outcome, `${where} (${phase})`).toBe(expected);
          outcomes[outcome as keyof typeof outcomes]++;
          expect(liveNames(readdirSync(live)), `${where}: the restore left files beside the live data`).toEqual([]);
          await setsAreWhole(home, sets, drilled, where);

          // The lock is free: the next backup runs, and names the killed run's lock and partial safety set it cleaned.
          const lockLeft = existsSync(path.join(sets, HOLDER));
          const result = await engine.call('backup.run', { env: 'prod' });
          if (lockLeft)
            expect(
              result.cleaned.some((c) => c.startsWith('lock of a killed restore')),
              `${where}: ${JSON.stringify(result.cleaned)}`,
            ).toBe(true);
          if (partial) expect(result.cleaned, where).toContain(`partial folder ${partial} of an interrupted backup`);
          expect(partialOf(sets), where).toBeUndefined();
          expect(existsSync(path.join(sets, HOLDER)), `${where}: the lock's holder file is left`).toBe(false);
          drilled.add(result.id);
        } finally {
          engine.close();
        }
      }

      console.info(`restore kill loop: ${kills} kills by phase ${JSON.stringify(Object.fromEntries(phases))}, outcomes ${JSON.stringify(outcomes)} (work ${workMs} ms)`);
      phases.delete('finished');
      expect([...phases.keys()].length, `the kills hit only ${[...phases.keys()].join(', ')}`).toBeGreaterThanOrEqual(4);
      expect(outcomes['as before']).toBeGreaterThan(0);
      expect(outcomes['the set']).toBeGreaterThan(0);
    },
    LOOP_TIMEOUT_MS,
  );
});
