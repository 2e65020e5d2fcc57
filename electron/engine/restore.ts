import { promises as fs } from 'node:fs';
import path from 'node:path';
import { environmentKey, type Environment } from '../../shared/environment.js';
import type { DrillCheck, DrillReport } from '../../shared/drill.js';
import type { Progress } from '../../shared/progress.js';
import type { RestoreResult } from '../../shared/restore.js';
import { runBackup } from './backup.js';
import type { Catalog } from './catalog.js';
import { cancelled, fsError, LifeboatError, throwIfAborted } from './errors.js';
import { faultPoint } from './fault-points.js';
import { confirmationName, requireConfirmation, type EnvironmentFinder } from './confirmation.js';
import { refuseOverlap } from './environment-file.js';
import { openStore, recordedSet, type SealedSet } from './store/index.js';
import { ProgressMeter } from './progress.js';
import { RestoreJournal, type Journal, type JournalSource } from './restore-journal.js';
import { contextOf, DESTINATION_APART_CHECK, destinationOf, planRestore, RESTORE_DRILL_CHECK, RESTORE_PROGRAMS_CHECK, type RestorePlan, type RestoreTarget } from './restore-plan.js';
import { restorerOf } from './sources/index.js';
import type { ApplyRestore, RestoreContext, SwapRestore } from './sources/common/types.js';
import type { OwnerPlan } from './sources/common/ownership.js';
import type { Artifact } from '../../shared/manifest.js';
import { artifactReader } from './codec/index.js';

export interface RestoreOptions {
  home: string;
  door: string;
  to?: string;
  /** Database sources go into this new database instead of their live one. */
  toDatabase?: string;
  /** The typed confirmation (see confirmation.ts); required for a protected environment. */
  confirm?: string;
  /** Where the confirmation rule looks for other environments of the same name, and the safety set for ids taken. */
  catalog: EnvironmentFinder & Pick<Catalog, 'setIds'>;
  /** The set's drill: a fresh one, or the pre-flight's passing one while the set's bytes are exactly those it read; never a recorded report. */
  drill: () => Promise<DrillReport>;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** The error a failed pre-flight check turns into; the first failure decides its code. */
function refusal(plan: RestorePlan): LifeboatError {
  const failed = plan.preview.preflight.filter((c) => c.status === 'FAIL');
  const first = failed[0]!;
  const list = failed.map((c) => `${c.name} (${c.target}): ${c.reason}`).join('\n  ');
  const code =
    first.name === RESTORE_DRILL_CHECK
      ? 'SET_FAILED_DRILL'
      : first.name === 'not in use'
        ? 'IN_USE'
        : first.name === 'enough free space'
          ? 'NOT_ENOUGH_SPACE'
          : first.name === RESTORE_PROGRAMS_CHECK
            ? 'TOOL_MISSING'
            : first.name === DESTINATION_APART_CHECK
              ? 'TARGET_NOT_APART'
              : 'TARGET_NOT_EMPTY';
  const hint =
    code === 'SET_FAILED_DRILL'
      ? 'This set cannot be trusted; restore another set whose drill passes.'
      : code === 'IN_USE'
        ? 'Stop the application that uses the data, then restore again.'
        : code === 'NOT_ENOUGH_SPACE'
          ? 'Free the space named above (or prune old sets), then restore again.'
          : code === 'TOOL_MISSING'
            ? 'Install or correct the program named above, then restore again.'
            : code === 'TARGET_NOT_APART'
              ? 'Choose a new folder outside the live folders and the backup location (not reached through a link into them).'
              : 'Choose an empty or new folder (or a database name that does not exist yet) to restore into.';
  return new LifeboatError(code, `Restore of ${plan.manifest.id} refused:\n  ${list}`, `${hint} Your live data was not changed.`);
}

/**
 * Restores a set: pre-flight, typed confirmation, a pre-restore safety backup, then for each
 * source either staging beside the target and a journalled swap (files) or one all-or-nothing
 * step in place (a database server, a command), verification of the live data, and an automatic
 * roll-back (or undo from the safety set) when any step fails. With `to` / `toDatabase`, the same
 * restore goes into a new folder or database and live data is never touched.
 */
export async function runRestore(env: Environment, set: SealedSet, opts: RestoreOptions): Promise<RestoreResult> {
  const key = environmentKey(env);
  const signal = opts.signal ?? new AbortController().signal;
  const started = performance.now();
  await refuseOverlap(env); // the lock and the safety set go into the location
  const lock = await openStore(env.location).lock(key, { operation: 'restore', door: opts.door });
  try {
    // Refused before any work: the engine enforces the typed name whichever door asked.
    if (!destinationOf(opts)) requireConfirmation(env, opts.confirm, opts.catalog, { what: 'restoring over its live data needs its name typed to confirm', unchanged: 'Nothing was changed.' });
    const plan = await planRestore(env, set, { to: opts.to, toDatabase: opts.toDatabase, drill: opts.drill, signal, confirmName: confirmationName(env, opts.catalog) });
    if (!plan.preview.ready) throw refusal(plan);
    const live = plan.preview.mode === 'live';
    const rid = `${plan.manifest.id}-${Date.now().toString(36)}`;
    const swapped = plan.targets.filter((t) => restorerOf(t.source).method === 'swap');
    const applied = plan.targets.filter((t) => restorerOf(t.source).method === 'apply');
    const total = swapped.reduce((n, t) => n + swapOf(t).stagedBytes(t.artifacts), 0);
    const progress = new ProgressMeter({ operation: 'restore', env: key }, { bytes: total, files: 0 }, opts.onProgress);
    const ctx = (t: RestoreTarget) => contextOf(t, set, plan.destination, signal, progress);
    const folder = plan.destination?.folder;
    const createdTo = !!folder && (await fs.mkdir(folder, { recursive: true, mode: 0o700 })) !== undefined;

    const entries = new Map<RestoreTarget, JournalSource>();
    for (const t of swapped) {
      const dir = path.dirname(t.target);
      const base = path.basename(t.target);
      const staged = path.join(dir, `.${base}.lifeboat-staged-${rid}`);
      const aside = [t.target, ...swapOf(t).companions(t.target)];
      const moves = [];
      for (const p of aside)
        if (
          live &&
          (await fs.lstat(p).then(
            () => true,
            () => false,
          ))
        )
          moves.push({ from: p, to: path.join(dir, `.${path.basename(p)}.lifeboat-old-${rid}`) });
      moves.push({ from: staged, to: t.target });
      entries.set(t, { source: t.source.name, target: t.target, staged, moves });
    }
    const existedBefore = new Map<RestoreTarget, boolean>();
    for (const t of applied) existedBefore.set(t, live && (await restorerOf(t.source).exists(ctx(t))));
    const journal = await RestoreJournal.create(opts.home, {
      id: rid,
      env: key,
      location: env.location,
      setId: plan.manifest.id,
      pid: process.pid,
      createdAt: new Date().toISOString(),
      state: 'staging',
      sources: [...entries.values()],
      ...(applied.length ? { inPlace: applied.map((t) => ({ source: t.source.name, target: t.target })) } : {}),
    });

    let safetySet: RestoreResult['safetySet'] = null;
    let safetyArtifacts: Artifact[] = [];
    /** Targets written in place so far, newest last: what a failure must undo. */
    const done: RestoreTarget[] = [];
    /** The owner and mode staging gave each path, which the verification checks after the swap. */
    const owners = new Map<RestoreTarget, OwnerPlan>();
    try {
      if (live) {
        const existing = [];
        for (const t of plan.targets) if ((entries.get(t)?.moves.length ?? 0) > 1 || existedBefore.get(t)) existing.push(env.sources.find((s) => s.name === t.source.name)!);
        if (existing.length) {
          progress.setPhase('safety backup');
          const sealed = await runBackup({ ...env, sources: existing }, { door: opts.door, label: 'pre-restore', lockHeld: true, knownIds: opts.catalog.setIds(key), signal });
          safetySet = { id: sealed.manifest.id, path: sealed.set.dir };
          safetyArtifacts = sealed.manifest.artifacts;
          journal.data.safetySet = sealed.manifest.id;
          await journal.save();
        }
      }
      await faultPoint('restore:safety-done');

      for (const t of swapped) {
        throwIfAborted(signal);
        await fs.mkdir(path.dirname(t.target), { recursive: true, mode: 0o700 });
        owners.set(t, (await swapOf(t).stage({ ...ctx(t), staged: entries.get(t)!.staged })).owners);
      }
      await faultPoint('restore:staged');
      throwIfAborted(signal);

      if (live) {
        for (const t of plan.targets) {
          const use = await restorerOf(t.source).inUse(t.source, t.target);
          if (use.status === 'busy')
            throw new LifeboatError(
              'IN_USE',
              `${t.target} came into use while the restore was being prepared: in use by ${use.holders.join('; ')}.`,
              'Close it and restore again. Your live data was not changed.',
            );
          if (entries.has(t)) await swapOf(t).beforeSwap?.(t.target);
        }
      }
      if (applied.length) await journal.setState('applying');
      for (const t of applied) {
        throwIfAborted(signal);
        progress.setPhase('restore', t.source.name);
        // An atomic step that throws changed nothing; any other may have written part of the set.
        if (!applyOf(t).atomic) done.push(t);
        await applyOf(t).apply(ctx(t));
        if (applyOf(t).atomic) done.push(t);
      }
      if (applied.length) await faultPoint('restore:applied');
      progress.setPhase('swap');
      await journal.setState('swapping');
      for (const e of entries.values()) await journal.swap(e, () => faultPoint('restore:between-renames'));
      await faultPoint('restore:before-verify');

      progress.setPhase('verify');
      await journal.setState('verifying');
      const verification: DrillCheck[] = [];
      for (const t of plan.targets) verification.push(...(await restorerOf(t.source).verify({ ...ctx(t), owners: owners.get(t) })));
      const bad = verification.filter((c) => c.status === 'FAIL');
      if (bad.length) {
        throw new LifeboatError(
          'VERIFY_FAILED',
          `After the restore the data did not match the set (${bad.map((c) => `${c.target}: ${c.name} — ${c.reason}`).join('; ')}); the restore was rolled back.`,
          'Your data is as it was before the restore. Run a drill on the set and report this with the activity log.',
        );
      }
      await journal.setState('committed');
      await faultPoint('restore:committed');
      await journal.discardOld();
      await journal.remove();
      const undoLimits = safetySet ? undoLimitsOf(applied, verification) : [];
      return {
        env: key,
        setId: plan.manifest.id,
        mode: plan.preview.mode,
        targets: plan.targets.map((t) => ({ source: t.source.name, path: t.target })),
        safetySet,
        verification,
        undoLimits,
        durationMs: performance.now() - started,
      };
    } catch (err) {
      const undoFailures = await undoApplied(done, ctx, existedBefore, safetySet, safetyArtifacts);
      await journal.rollBack();
      await journal.remove();
      if (createdTo) await fs.rmdir(folder).catch(() => undefined);
      if (signal.aborted && !(err instanceof LifeboatError && err.code !== 'CANCELLED')) throw withUndo(cancelled(), undoFailures, safetySet);
      if (err instanceof LifeboatError) throw withUndo(err, undoFailures, safetySet);
      throw withUndo(fsError(err, env.location, true) ?? toLifeboatError(err), undoFailures, safetySet);
    }
  } finally {
    await lock.release();
  }
}

const swapOf = (t: RestoreTarget) => restorerOf(t.source) as SwapRestore;
const applyOf = (t: RestoreTarget) => restorerOf(t.source) as ApplyRestore;

/** The sources that restoring the safety set would not put back exactly, with why (their restore merges). */
function undoLimitsOf(applied: RestoreTarget[], verification: DrillCheck[]): RestoreResult['undoLimits'] {
  return applied.flatMap((t) => {
    const reason =
      applyOf(t).undoLimit?.(
        t.source,
        verification.filter((c) => c.target === t.target),
      ) ?? null;
    return reason ? [{ source: t.source.name, reason }] : [];
  });
}

/** Puts back, newest first, what was written in place: the safety set's data, or nothing where there was none. */
async function undoApplied(
  done: RestoreTarget[],
  ctx: (t: RestoreTarget) => RestoreContext,
  existed: Map<RestoreTarget, boolean>,
  safetySet: RestoreResult['safetySet'],
  safety: Artifact[],
): Promise<string[]> {
  const failures: string[] = [];
  for (const t of [...done].reverse()) {
    const before = existed.get(t) && safetySet ? { reader: artifactReader(recordedSet(safetySet.path).set), artifacts: safety.filter((a) => a.source === t.source.name) } : null;
    try {
      // Not cancellable: an undo that stops half-way would leave the worst of both.
      await applyOf(t).undo({ ...ctx(t), signal: new AbortController().signal }, before);
    } catch (err) {
      failures.push(`${t.source.name} (${t.target}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failures;
}

/** The error, told that some data written in place could not be put back, and how to do it by hand. */
function withUndo(err: LifeboatError, failures: string[], safetySet: RestoreResult['safetySet']): LifeboatError {
  if (!failures.length) return err;
  const message = `${err.message.replace(/;? ?the restore was rolled back\.?$/, '.')} Putting back the data as it was also failed for ${failures.join('; ')}.`;
  const hint = safetySet ? `Restore the safety set ${safetySet.id} (it holds the data as it was before this restore) once the cause is fixed.` : 'Check the data named above before using it.';
  return new LifeboatError(err.code, message, hint, err.problems);
}

function toLifeboatError(err: unknown): LifeboatError {
  return new LifeboatError('RESTORE_FAILED', `The restore failed: ${err instanceof Error ? err.message : String(err)}.`, 'Nothing of it was kept; report this with the activity log.');
}

/**
 * Finishes what a killed restore left: a verified one is committed, anything else is rolled back,
 * so the target is wholly old or wholly new. A journal whose environment is still locked belongs
 * to a restore that is running, and is left alone. Returns a sentence for each one handled.
 */
export async function recoverInterruptedRestores(home: string): Promise<{ env: string; message: string }[]> {
  const notes: { env: string; message: string }[] = [];
  for (const journal of await RestoreJournal.all(home)) {
    const j = journal.data;
    let lock;
    try {
      lock = await openStore(j.location).lock(j.env, { operation: 'restore recovery', door: 'engine' });
    } catch (err) {
      if (err instanceof LifeboatError && err.code === 'LOCKED') continue; // that restore is still running
      // The location is unreachable (an unmounted disk): say so, keep the journal for the next
      // start, and let every other command work.
      notes.push({
        env: j.env,
        message: `An interrupted restore of ${j.setId} could not be rolled back yet: its backup location ${j.location} cannot be opened (${err instanceof Error ? err.message : String(err)}). Mount it again; the next command will finish the roll-back.`,
      });
      continue;
    }
    try {
      if (j.state === 'committed') {
        await journal.discardOld();
        notes.push({ env: j.env, message: `A restore of ${j.setId} had finished and been verified when it was interrupted; its clean-up is now done.` });
      } else {
        await journal.rollBack();
        const inPlace = j.state !== 'staging' ? (j.inPlace ?? []) : [];
        notes.push({
          env: j.env,
          message: inPlace.length ? inPlaceNote(j, inPlace) : `A restore of ${j.setId} was interrupted (${j.state}) and has been rolled back: the data is as it was before it.`,
        });
      }
      await journal.remove();
    } finally {
      await lock.release();
    }
  }
  return notes;
}

/** What a crash means for data written in place: each step was all or nothing, but it may have finished. */
function inPlaceNote(j: Journal, inPlace: { source: string; target: string }[]): string {
  const names = inPlace.map((p) => `"${p.source}" (${p.target})`).join(', ');
  const one = inPlace.length === 1;
  const files = j.sources.length ? ' Its files have been rolled back: they are as they were before it.' : '';
  const back = j.safetySet ? `; to go back to the data as it was, restore the safety set ${j.safetySet}` : '';
  return `A restore of ${j.setId} was interrupted (${j.state}).${files} ${names} ${one ? 'is' : 'are'} written in place, not renamed, so ${one ? 'it' : 'they'} may hold the set: check ${one ? 'it' : 'them'}${back}.`;
}
