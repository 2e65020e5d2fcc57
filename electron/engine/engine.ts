import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { api, type Api, type MethodName, type ResultOf, type SetSummary } from '../../shared/api.js';
import { environmentKey, type Environment } from '../../shared/environment.js';
import type { Progress } from '../../shared/progress.js';
import { count } from '../../shared/format.js';
import { runBackup } from './backup.js';
import { Catalog } from './catalog.js';
import { runDrill } from './drill.js';
import { parseEnvironment, parseForSaving } from './environment-file.js';
import { LifeboatError, toErrorShape } from './errors.js';
import { loggedOutcome } from '../../shared/outcome.js';
import { readManifest } from './manifest.js';
import { isSetOf, SET_ID_PATTERN } from './set-id.js';
import { recoverInterruptedRestores, runRestore } from './restore.js';
import { folderCheck, planRestore, preflightChecks, restoreTargets } from './restore-plan.js';
import { setFingerprint } from './set-fingerprint.js';
import { checkEnvironment } from './environment-check.js';
import { confirmationName, requireConfirmation, sentenceList, weakeningChanges } from './confirmation.js';
import { makeDemo } from './demo.js';
import { revealFolder } from './reveal.js';
import type { DrillReport } from '../../shared/drill.js';
import { pinnedIn, writePin } from './pins.js';
import { deleteSet, pruneSets } from './prune.js';
import { statusOf } from './status.js';
import { worst } from './monitoring.js';
import { runDue } from './run-due.js';
import { setFolderBytes } from './set-size.js';
import { defaultCommand, installTimer, removeTimer, type Platform, type TimerOptions } from './system-timer.js';
import type { LinuxTimerMethod } from '../../shared/schedule.js';
import { Jobs, stallBoundMs } from './jobs.js';
import { currentJob, noteProgress } from './watchdog.js';

/** What every call carries besides its arguments. */
export interface CallContext {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Names the call so that `job.cancel` can stop it; a name already running is refused. */
  job?: string;
}

/** Told after a call changed what screens show; `env` is the environment's key, or null for all. */
export type ChangeListener = (env: string | null) => void;

/** Methods that change sets, environments or the activity log, after which listeners are told. */
const CHANGING: ReadonlySet<MethodName> = new Set<MethodName>(['env.save', 'env.demo', 'backup.run', 'drill.run', 'restore.preflight', 'restore.run', 'catalog.rebuild', 'sets.pin', 'sets.delete', 'sets.prune']);

type Handlers = { [M in MethodName]: (args: z.output<Api[M]['args']>, ctx: CallContext) => Promise<ResultOf<M>> };

/**
 * The engine behind every door. Doors call `call(method, rawArgs)`: the arguments are parsed with
 * the contract's schema here, before any work, so no door can skip validation.
 */
export class Engine {
  readonly catalog: Catalog;
  /** Interrupted restores found and finished at start, once per engine. */
  private recovery: Promise<{ env: string; message: string }[]> | undefined;
  /** Running calls by job name, so that any door can cancel them. */
  private readonly jobs = new Map<string, AbortController>();
  private readonly changeListeners = new Set<ChangeListener>();
  /**
   * Sets whose pre-flight drill passed, by folder, with the fingerprint of their bytes taken just
   * before that drill: a restore that finds the same bytes need not drill them again. Used once.
   */
  private readonly drilledClean = new Map<string, { fingerprint: string; report: DrillReport }>();
  /** How the operating system's timer starts `lifeboat run-due`: the program and its first arguments. A door may set it (the packaged app does). */
  runDueCommand: string[] | null = defaultCommand();

  constructor(readonly home: string, readonly door: string) {
    this.catalog = new Catalog(home);
    this.jobRunner = new Jobs(this.catalog, door);
  }

  /** Rolls back (or finishes) restores a killed process left, before any other work; logged. */
  recover(): Promise<{ env: string; message: string }[]> {
    this.recovery ??= recoverInterruptedRestores(this.home).then((notes) => {
      for (const n of notes) this.catalog.addActivity({ env: n.env, action: 'restore.recover', door: this.door, outcome: 'success', summary: n.message });
      return notes;
    });
    return this.recovery;
  }

  close(): void {
    this.catalog.close();
  }

  /** How long a backup, drill, restore or prune may make no progress before it fails with STALLED. */
  stallMs = stallBoundMs();
  /** How long a job told to stop may make no progress before its call ends without it. */
  cancelGraceMs = 5000;
  private readonly jobRunner: Jobs;

  /** Settles once every call's work has ended, including work a cancel stopped waiting for. */
  whenIdle(): Promise<void> {
    return this.jobRunner.whenIdle();
  }

  /** How many calls ended while their work still waits on a read that did not return. */
  abandonedWork(): number {
    return this.jobRunner.abandoned;
  }

  async call<M extends MethodName>(method: M, rawArgs: unknown, ctx: CallContext = {}): Promise<ResultOf<M>> {
    const spec = api[method];
    if (!spec) throw new LifeboatError('BAD_ARGUMENT', `Unknown method ${String(method)}.`, 'Use a method of the contract in shared/api.ts.');
    const parsed = spec.args.safeParse(rawArgs ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(arguments)', message: i.message }));
      throw new LifeboatError('BAD_ARGUMENT', `Bad arguments for ${method}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}.`, 'Correct the arguments and try again.', problems);
    }
    await this.recover();
    const handler = this.handlers[method] as (args: unknown, ctx: CallContext) => Promise<ResultOf<M>>;
    const job = ctx.job;
    if (job && this.jobs.has(job)) throw new LifeboatError('BAD_ARGUMENT', `A job named ${job} is already running.`, 'Give every call its own job name.');
    const controller = job ? new AbortController() : null;
    if (job) this.jobs.set(job, controller!);
    const signals = [ctx.signal, controller?.signal].filter((s): s is AbortSignal => !!s);
    const options = { stallMs: this.stallMs, graceMs: this.cancelGraceMs, environment: (ref: string) => this.catalog.findEnvironments(ref)[0] };
    try {
      const work = this.jobRunner.run(method, parsed.data, signals, options, (signal) => handler(parsed.data, signal ? { ...ctx, signal } : ctx));
      return await this.told(method, parsed.data, work);
    } finally {
      if (job) this.jobs.delete(job);
    }
  }

  /** Subscribes to changes made through this engine; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Tells listeners once a changing call has finished, whether it succeeded or not (the log changed). */
  private async told<T>(method: MethodName, args: unknown, work: Promise<T>): Promise<T> {
    if (!CHANGING.has(method)) return work;
    try {
      return await work;
    } finally {
      const ref = (args as { env?: unknown }).env;
      let key: string | null = null;
      if (typeof ref === 'string') {
        const found = this.catalog.findEnvironments(ref);
        if (found.length === 1) key = environmentKey(found[0]!);
      }
      this.tell(key);
    }
  }

  private tell(key: string | null): void {
    for (const listener of this.changeListeners) listener(key);
  }

  /** Resolves `prod` (when unique) or `app/prod` to one environment. */
  environment(ref: string): Environment {
    const found = this.catalog.findEnvironments(ref);
    if (found.length === 1) return found[0]!;
    if (found.length === 0) {
      const known = this.catalog.environments().map(environmentKey);
      throw new LifeboatError('UNKNOWN_ENVIRONMENT', `There is no environment "${ref}".`, known.length ? `Known environments: ${known.join(', ')}.` : 'Import one first: lifeboat env import FILE (or run `lifeboat catalog rebuild --location DIR` to adopt an existing backup folder).');
    }
    throw new LifeboatError('AMBIGUOUS_ENVIRONMENT', `"${ref}" names ${found.length} environments: ${found.map(environmentKey).join(', ')}.`, `Name it with its app: --env ${environmentKey(found[0]!)}.`);
  }

  /**
   * Brings the catalog's index of one environment's sets in line with its backup folders. The
   * current location is rescanned whole. A location the environment had before is a place its
   * older sets still are: they stay listed there (a set removed from it is forgotten, a set moved
   * into the current location is found there) until the operator removes or moves them.
   */
  async syncSets(env: Environment): Promise<{ added: number; removed: number; unreadable: { path: string; message: string }[] }> {
    const key = environmentKey(env);
    const here = new Set<string>();
    const elsewhere = new Map<string, SetSummary[]>();
    for (const set of this.catalog.sets(key)) {
      const folder = path.dirname(set.path);
      if (folder === env.location) here.add(set.id);
      else elsewhere.set(folder, [...(elsewhere.get(folder) ?? []), set]);
    }
    let names: string[];
    let listing: string[] = [];
    try {
      listing = await fs.readdir(env.location);
      names = listing.filter((n) => isSetOf(n, env.app, env.name));
    } catch (err) {
      // A missing folder is "no sets yet" only while none were recorded there: an unmounted disk is
      // not an empty one, and forgetting its sets would turn "location missing" into "no backup yet".
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && here.size === 0) names = [];
      else {
        throw new LifeboatError(
          'LOCATION_UNREADABLE',
          `The backup location ${env.location} cannot be listed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})${here.size ? `, though ${count(here.size, 'set')} ${here.size === 1 ? 'was' : 'were'} recorded there` : ''}.`,
          'Mount the disk that holds it (or fix its permissions) and look again; if the sets were moved, point the environment at their new folder. Nothing was changed.',
        );
      }
    }
    let added = 0;
    const found = new Set<string>();
    const unreadable: { path: string; message: string }[] = [];
    for (const name of names) {
      found.add(name);
      if (here.delete(name)) continue;
      const dir = path.join(env.location, name);
      const read = await readManifest(dir);
      noteProgress();
      if (!read.ok) {
        unreadable.push({ path: dir, message: read.error.message });
        continue;
      }
      // Also a set recorded in an earlier location and moved here: its path is now this one.
      this.catalog.upsertSet(read.manifest, dir, await setFolderBytes(dir));
      added++;
    }
    for (const gone of here) this.catalog.removeSet(gone);
    let removed = here.size;
    const pinned = pinnedIn(listing, env.app, env.name);
    for (const [folder, sets] of elsewhere) {
      const old = await fs.readdir(folder).catch(() => null);
      for (const set of sets) {
        if (found.has(set.id)) continue; // moved into the current location
        if (!old) {
          if (set.pinned) pinned.add(set.id); // a disk that is not there keeps its sets and pins
        } else if (!old.includes(set.id)) {
          this.catalog.removeSet(set.id);
          removed++;
        }
      }
      if (old) for (const id of pinnedIn(old, env.app, env.name)) if (sets.some((s) => s.id === id)) pinned.add(id);
    }
    this.catalog.setPins(key, pinned);
    return { added, removed, unreadable };
  }

  /** The folder of a set by id, or of the newest sealed set when no id is given. */
  async setPath(env: Environment, id: string | undefined): Promise<string> {
    await this.syncSets(env);
    const sets = this.catalog.sets(environmentKey(env));
    if (!id || id === 'latest') {
      if (!sets[0]) throw new LifeboatError('NO_SETS', `${environmentKey(env)} has no backup sets in ${env.location}.`, `Make one first: lifeboat backup --env ${env.name}.`);
      return sets[0].path;
    }
    if (!SET_ID_PATTERN.test(id) || !isSetOf(id, env.app, env.name)) {
      throw new LifeboatError('UNKNOWN_SET', `"${id}" is not a set id of ${environmentKey(env)}.`, `Set ids look like ${env.app}_${env.name}_20261122_020000; list them with: lifeboat list --env ${env.name}.`);
    }
    const found = sets.find((s) => s.id === id);
    if (found) return found.path;
    // Not indexed: maybe unreadable; the drill will say why.
    const dir = path.join(env.location, id);
    if (await fs.stat(dir).then((s) => s.isDirectory(), () => false)) return dir;
    throw new LifeboatError('UNKNOWN_SET', `There is no set ${id} in ${env.location}.`, `List the sets with: lifeboat list --env ${env.name}.`);
  }

  /**
   * Refuses, logged, a save that weakens a protected environment already saved unless `confirm`
   * confirms it; the rule of what confirms is confirmation.ts's, as for restores and deletions.
   */
  private confirmSave(env: Environment, confirm: string | undefined): void {
    const key = environmentKey(env);
    const before = this.catalog.findEnvironments(key)[0];
    const changes = before ? weakeningChanges(before, env) : [];
    if (!before || !changes.length) return;
    try {
      requireConfirmation(before, confirm, this.catalog, { what: `this save ${sentenceList(changes)}, which needs its name typed to confirm`, command: 'lifeboat env import FILE', unchanged: 'Nothing was saved.' });
    } catch (err) {
      const shape = toErrorShape(err);
      this.catalog.addActivity({ env: key, action: 'env.save', door: this.door, outcome: loggedOutcome(shape.code), summary: shape.message, detail: shape });
      throw err;
    }
  }

  /** What `env.check` tells the editor: whether its save will need the typed name, and why. */
  private saveConfirmation(input: unknown, baseDir: string | null): { name: string; changes: string[] } | null {
    let env: Environment;
    try {
      env = parseEnvironment(input, baseDir);
    } catch {
      return null;
    }
    const before = this.catalog.findEnvironments(environmentKey(env))[0];
    const changes = before?.protection === 'protected' ? weakeningChanges(before, env) : [];
    return before && changes.length ? { name: confirmationName(before, this.catalog), changes } : null;
  }

  /** Where and how the operating system's timer is written. */
  private timerOptions(platform: Platform | undefined, method: LinuxTimerMethod | undefined): TimerOptions {
    const current = process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux';
    if (!this.runDueCommand) throw new LifeboatError('TIMER_FAILED', 'This Lifeboat cannot tell how to start its command line, so it cannot install a timer.', 'Install the timer from the command line: lifeboat schedule install.');
    return { platform: platform ?? current, method, home: this.home, command: this.runDueCommand, env: process.env };
  }

  /** A drill of a set, recorded; a preview may reuse the latest recorded one, a restore never does. */
  private async drillFor(env: Environment, dir: string, ctx: CallContext, reuse: boolean, onProgress?: (p: Progress) => void): Promise<DrillReport> {
    const key = environmentKey(env);
    if (reuse) {
      const last = this.catalog.latestDrillReport(path.basename(dir));
      if (last) return last;
    }
    const report = await runDrill(dir, { envKey: key, scratchRoot: path.join(this.home, 'scratch'), signal: ctx.signal, onProgress });
    this.catalog.recordDrill(key, report);
    return report;
  }

  /**
   * The pre-flight's drill: always fresh, its progress told. The set's bytes are fingerprinted
   * first, so that a change made while the drill reads shows as a different fingerprint later.
   */
  private async preflightDrill(env: Environment, dir: string, ctx: CallContext): Promise<DrillReport> {
    this.drilledClean.delete(dir);
    const fingerprint = await setFingerprint(dir, ctx.signal);
    const report = await this.drillFor(env, dir, ctx, false, ctx.onProgress);
    if (report.passed) {
      this.drilledClean.set(dir, { fingerprint, report });
      if (this.drilledClean.size > 16) this.drilledClean.delete(this.drilledClean.keys().next().value!);
    }
    return report;
  }

  /**
   * The restore's drill: the passing pre-flight drill of this set when its bytes are still exactly
   * those that drill read (same fingerprint), else a fresh one. A screen's word is never taken.
   */
  private async restoreDrill(env: Environment, dir: string, ctx: CallContext): Promise<DrillReport> {
    const clean = this.drilledClean.get(dir);
    this.drilledClean.delete(dir);
    if (clean && (await setFingerprint(dir, ctx.signal).catch(() => null)) === clean.fingerprint) return clean.report;
    return this.drillFor(env, dir, ctx, false);
  }

  private readonly handlers: Handlers = {
    'env.list': async () => {
      const now = new Date();
      return Promise.all(this.catalog.environments().map(async (env) => {
        const key = environmentKey(env);
        const sets = this.catalog.sets(key);
        const status = await statusOf(this.catalog, env, now);
        return {
          key,
          app: env.app,
          name: env.name,
          protection: env.protection,
          location: env.location,
          sources: env.sources.length,
          sets: sets.length,
          lastBackupAt: sets[0]?.finishedAt ?? null,
          lastDrill: this.catalog.lastDrill(key),
          health: { level: status.level, alerts: status.alerts.length },
          confirmAs: confirmationName(env, this.catalog),
        };
      }));
    },
    'env.get': async ({ env }) => this.environment(env),
    'env.save': async ({ environment, baseDir, confirm }) => {
      const env = await parseForSaving(environment, baseDir ?? null);
      this.confirmSave(env, confirm);
      this.catalog.saveEnvironment(env);
      this.catalog.addActivity({ env: environmentKey(env), action: 'env.save', door: this.door, outcome: 'success', summary: `Saved environment ${environmentKey(env)} with ${env.sources.length} sources` });
      return env;
    },
    'env.check': async ({ environment, baseDir }) => {
      const check = await checkEnvironment(environment, { baseDir, known: (key) => this.catalog.findEnvironments(key).length > 0 });
      return { ...check, confirmation: this.saveConfirmation(environment, baseDir ?? null) };
    },
    'env.demo': async () => {
      const existing = this.catalog.findEnvironments('demo/notes')[0];
      const env = parseEnvironment(await makeDemo(this.home), this.home);
      if (existing) return existing;
      this.catalog.saveEnvironment(env);
      this.catalog.addActivity({ env: environmentKey(env), action: 'env.save', door: this.door, outcome: 'success', summary: `Created the demo environment ${environmentKey(env)}: a notes database and an attachments folder in ${path.dirname(env.location)}` });
      return env;
    },
    'sets.reveal': async ({ env: ref, set }) => revealFolder(await this.setPath(this.environment(ref), set)),
    'backup.run': async ({ env: ref }, ctx) => {
      const env = this.environment(ref);
      const key = environmentKey(env);
      try {
        // A location that went away while sets were recorded there is an unmounted disk: a backup must
        // not make a fresh folder in its place (on the wrong disk) and forget the sets.
        await this.syncSets(env);
        const sealed = await runBackup(env, { door: this.door, knownIds: this.catalog.setIds(key), signal: ctx.signal, onProgress: ctx.onProgress });
        const size = await setFolderBytes(sealed.path);
        this.catalog.upsertSet(sealed.manifest, sealed.path, size);
        const durationMs = Date.parse(sealed.manifest.finishedAt) - Date.parse(sealed.manifest.startedAt);
        this.catalog.addActivity({ env: key, action: 'backup', door: this.door, outcome: 'success', summary: `Sealed ${sealed.manifest.id}: ${sealed.manifest.artifacts.length} artifacts, ${size} bytes`, detail: { id: sealed.manifest.id, cleaned: sealed.cleaned } });
        return {
          id: sealed.manifest.id,
          path: sealed.path,
          env: key,
          sizeBytes: size,
          durationMs,
          artifacts: sealed.manifest.artifacts.map((a) => ({ file: a.file, size: a.size, sha256: a.sha256 })),
          cleaned: sealed.cleaned,
        };
      } catch (err) {
        const shape = toErrorShape(err);
        const outcome = loggedOutcome(shape.code);
        // A job given up on was logged when its call ended.
        if (!currentJob()?.abandoned) this.catalog.addActivity({ env: key, action: 'backup', door: this.door, outcome, summary: shape.message, detail: shape });
        throw err;
      }
    },
    'sets.list': async ({ env: ref }) => {
      const env = this.environment(ref);
      await this.syncSets(env);
      return this.catalog.sets(environmentKey(env));
    },
    'drill.run': async ({ env: ref, set }, ctx) => {
      const env = this.environment(ref);
      const key = environmentKey(env);
      const dir = await this.setPath(env, set);
      let report: DrillReport;
      try {
        report = await runDrill(dir, { envKey: key, scratchRoot: path.join(this.home, 'scratch'), signal: ctx.signal, onProgress: ctx.onProgress });
      } catch (err) {
        // A drill that could not run to its report (cancelled, stalled, no such set) is logged too.
        const shape = toErrorShape(err);
        const outcome = loggedOutcome(shape.code);
        if (!currentJob()?.abandoned) this.catalog.addActivity({ env: key, action: 'drill', door: this.door, outcome, summary: `Drill of ${set ?? 'the newest set'}: ${shape.message}`, detail: shape });
        throw err;
      }
      this.catalog.recordDrill(key, report);
      const failed = report.checks.filter((c) => c.status === 'FAIL');
      this.catalog.addActivity({
        env: key,
        action: 'drill',
        door: this.door,
        outcome: report.passed ? 'success' : 'failed',
        summary: report.passed ? `Drill of ${report.setId} passed ${report.checks.length} checks` : `Drill of ${report.setId} failed: ${failed.map((c) => `${c.target}: ${c.name}`).join('; ')}`,
      });
      return report;
    },
    'restore.preview': async ({ env: ref, set, to, toDatabase }, ctx) => {
      const env = this.environment(ref);
      const dir = await this.setPath(env, set);
      const signal = ctx.signal ?? new AbortController().signal;
      const plan = await planRestore(env, dir, { to, toDatabase, signal, confirmName: confirmationName(env, this.catalog), drill: () => this.drillFor(env, dir, ctx, true) });
      return plan.preview;
    },
    'restore.preflight': async ({ env: ref, set, to, toDatabase }, ctx) => {
      const env = this.environment(ref);
      const dir = await this.setPath(env, set);
      const signal = ctx.signal ?? new AbortController().signal;
      const checkedAt = new Date().toISOString();
      const plan = await restoreTargets(env, dir, { to, toDatabase });
      const checks = await preflightChecks(env, dir, plan, { signal, drill: () => this.preflightDrill(env, dir, ctx) });
      return { env: environmentKey(env), setId: plan.manifest.id, mode: plan.destination ? 'elsewhere' : 'live', checkedAt, checks, ready: checks.every((c) => c.status !== 'FAIL') };
    },
    'restore.checkFolder': async ({ to }) => folderCheck(to),
    'restore.run': async ({ env: ref, set, to, toDatabase, confirm }, ctx) => {
      const env = this.environment(ref);
      const key = environmentKey(env);
      const dir = await this.setPath(env, set);
      const elsewhere = [to, toDatabase && `database ${toDatabase}`].filter(Boolean).join(' and ');
      const what = `${elsewhere ? `Restore of ${set} to ${elsewhere}` : `Restore of ${set}`}`;
      try {
        const result = await runRestore(env, dir, { home: this.home, door: this.door, catalog: this.catalog, to, toDatabase, confirm, signal: ctx.signal, onProgress: ctx.onProgress, drill: () => this.restoreDrill(env, dir, ctx) });
        if (result.safetySet) await this.syncSets(env);
        const safety = result.safetySet ? `; safety backup ${result.safetySet.id}` : '; no live data to save first';
        this.catalog.addActivity({ env: key, action: 'restore', door: this.door, outcome: 'success', summary: `${what} verified (${result.verification.length} checks)${elsewhere ? '' : safety}`, detail: result });
        return result;
      } catch (err) {
        await this.syncSets(env).catch(() => undefined);
        const shape = toErrorShape(err);
        const outcome = loggedOutcome(shape.code);
        if (!currentJob()?.abandoned) this.catalog.addActivity({ env: key, action: 'restore', door: this.door, outcome, summary: `${what}: ${shape.message}`, detail: shape });
        throw err;
      }
    },
    'catalog.rebuild': async ({ locations }) => {
      const adopted: string[] = [];
      const unreadable: { path: string; message: string }[] = [];
      for (const location of locations.map((l) => path.resolve(l))) {
        for (const env of await environmentsIn(location, unreadable)) {
          const key = environmentKey(env);
          if (this.catalog.findEnvironments(key).length === 0) {
            this.catalog.saveEnvironment(env);
            adopted.push(key);
          }
        }
      }
      let added = 0;
      let removed = 0;
      const environments = this.catalog.environments();
      for (const env of environments) {
        // One environment's unmounted disk is reported with the unreadable sets; the others are still rescanned.
        const r = await this.syncSets(env).catch((err: unknown) => {
          if (!(err instanceof LifeboatError) || err.code !== 'LOCATION_UNREADABLE') throw err;
          unreadable.push({ path: env.location, message: `${err.message} ${err.hint}` });
          return null;
        });
        if (!r) continue;
        added += r.added;
        removed += r.removed;
        unreadable.push(...r.unreadable);
      }
      const sets = environments.reduce((n, env) => n + this.catalog.sets(environmentKey(env)).length, 0);
      this.catalog.addActivity({ env: null, action: 'catalog.rebuild', door: this.door, outcome: 'success', summary: `Rescanned ${environments.length} environments: ${sets} sets, ${added} added, ${removed} gone` });
      return { environments: environments.map(environmentKey), adoptedEnvironments: adopted, sets, added, removed, unreadable };
    },
    'activity.list': async ({ env, limit }) => {
      const key = env ? environmentKey(this.environment(env)) : undefined;
      return this.catalog.activity(key, limit);
    },
    'job.cancel': async ({ job }) => {
      const controller = this.jobs.get(job);
      if (!controller) return { cancelled: false };
      controller.abort();
      return { cancelled: true };
    },
    'sets.pin': async ({ env: ref, set, pinned }) => {
      const env = this.environment(ref);
      const key = environmentKey(env);
      await this.syncSets(env);
      if (!this.catalog.sets(key).some((s) => s.id === set)) await this.setPath(env, set); // says why the id is unknown
      const found = this.catalog.sets(key).find((s) => s.id === set);
      if (!found) throw new LifeboatError('UNKNOWN_SET', `${set} has no readable manifest, so it cannot be pinned.`, `Drill it to see what is wrong (lifeboat drill --env ${env.name} --set ${set}).`);
      await writePin(path.dirname(found.path), set, pinned, this.door); // beside the set, wherever its location
      await this.syncSets(env);
      this.catalog.addActivity({ env: key, action: pinned ? 'pin' : 'unpin', door: this.door, outcome: 'success', summary: `${pinned ? 'Pinned' : 'Unpinned'} ${set}` });
      return this.catalog.sets(key).find((s) => s.id === set)!;
    },
    'sets.delete': async ({ env: ref, set, confirm }) => {
      return deleteSet(this.environment(ref), set, { catalog: this.catalog, door: this.door, confirm });
    },
    'sets.prune': async ({ env: ref, dryRun, confirm }) => {
      const env = this.environment(ref);
      const result = await pruneSets(env, { catalog: this.catalog, door: this.door, dryRun, confirm });
      await this.syncSets(env).catch(() => undefined);
      return result;
    },
    'retention.preview': async ({ env: ref, retention }) => pruneSets({ ...this.environment(ref), retention }, { catalog: this.catalog, door: this.door, dryRun: true }),
    'status.get': async ({ env: ref, now }) => {
      const at = now ? new Date(now) : new Date();
      const envs = ref ? [this.environment(ref)] : this.catalog.environments();
      const environments = [];
      for (const env of envs) {
        await this.syncSets(env).catch(() => undefined); // an unreadable location is an alert of its own
        environments.push(await statusOf(this.catalog, env, at));
      }
      return { checkedAt: at.toISOString(), level: worst(environments.map((e) => e.level)), environments };
    },
    // Each job inside tells its own change; a look that ran something tells once more, after its log entry.
    'schedule.runDue': async ({ now }, ctx) => {
      const result = await runDue(this, now ? new Date(now) : new Date(), ctx.signal);
      for (const job of result.ran) this.tell(job.env);
      return result;
    },
    'schedule.install': async ({ activate, platform, method }) => {
      const result = await installTimer(this.timerOptions(platform, method), activate);
      this.catalog.addActivity({ env: null, action: 'schedule.install', door: this.door, outcome: 'success', summary: result.message });
      return result;
    },
    'schedule.remove': async ({ activate, platform, method }) => {
      const result = await removeTimer(this.timerOptions(platform, method), activate);
      this.catalog.addActivity({ env: null, action: 'schedule.remove', door: this.door, outcome: 'success', summary: result.message });
      return result;
    },
  };
}

/**
 * The environments recorded in the newest readable manifest of each app/env found in a folder:
 * how a new workstation adopts an old backup folder.
 */
async function environmentsIn(location: string, unreadable: { path: string; message: string }[]): Promise<Environment[]> {
  let names: string[];
  try {
    names = await fs.readdir(location);
  } catch (err) {
    throw new LifeboatError('BAD_ARGUMENT', `${location} cannot be listed: ${(err as Error).message}.`, 'Give the folder that holds the backup sets (the environment\'s location).');
  }
  const newest = new Map<string, { stamp: string; env: Environment }>();
  for (const name of names.filter((n) => SET_ID_PATTERN.test(n)).sort()) {
    const read = await readManifest(path.join(location, name));
    if (!read.ok) {
      unreadable.push({ path: path.join(location, name), message: read.error.message });
      continue;
    }
    const env = { ...read.manifest.environment, location };
    newest.set(environmentKey(env), { stamp: read.manifest.startedAt, env });
  }
  return [...newest.values()].map((v) => v.env);
}
