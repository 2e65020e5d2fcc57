import { promises as fs } from 'node:fs';
import path from 'node:path';
import { environmentKey, type Environment } from '../../shared/environment.js';
import type { DrillCheck, DrillReport } from '../../shared/drill.js';
import type { Progress } from '../../shared/progress.js';
import type { RestoreResult } from '../../shared/restore.js';
import { runBackup } from './backup.js';
import { cancelled, fsError, LifeboatError, throwIfAborted } from './errors.js';
import { faultPoint } from './fault-points.js';
import { acquireLock } from './lock.js';
import { ProgressMeter } from './progress.js';
import { RestoreJournal, type JournalSource } from './restore-journal.js';
import { planRestore, type RestorePlan } from './restore-plan.js';
import { restorerOf } from './sources/index.js';

export interface RestoreOptions {
  home: string;
  door: string;
  to?: string;
  /** The environment's name, typed by the operator; required for a protected environment. */
  confirm?: string;
  /** A fresh drill of the set: a restore never trusts an old report. */
  drill: () => Promise<DrillReport>;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** The error a failed pre-flight check turns into; the first failure decides its code. */
function refusal(plan: RestorePlan): LifeboatError {
  const failed = plan.preview.preflight.filter((c) => c.status === 'FAIL');
  const first = failed[0]!;
  const list = failed.map((c) => `${c.name} (${c.target}): ${c.reason}`).join('\n  ');
  const code = first.name === 'drill passed' ? 'SET_FAILED_DRILL' : first.name === 'not in use' ? 'IN_USE' : first.name === 'enough free space' ? 'NOT_ENOUGH_SPACE' : 'TARGET_NOT_EMPTY';
  const hint =
    code === 'SET_FAILED_DRILL' ? 'This set cannot be trusted; restore another set whose drill passes.'
    : code === 'IN_USE' ? 'Stop the application that uses the data, then restore again.'
    : code === 'NOT_ENOUGH_SPACE' ? 'Free the space named above (or prune old sets), then restore again.'
    : 'Choose an empty or new folder to restore into.';
  return new LifeboatError(code, `Restore of ${plan.manifest.id} refused:\n  ${list}`, `${hint} Your live data was not changed.`);
}

/**
 * Restores a set: pre-flight, typed confirmation, a pre-restore safety backup, staging beside each
 * target, a journalled swap, verification of the live data, and an automatic roll-back when any
 * step fails. With `to`, the same restore goes into another folder and live data is never touched.
 */
export async function runRestore(env: Environment, setDir: string, opts: RestoreOptions): Promise<RestoreResult> {
  const key = environmentKey(env);
  const signal = opts.signal ?? new AbortController().signal;
  const started = performance.now();
  const lock = await acquireLock(env.location, key, { operation: 'restore', door: opts.door });
  try {
    // Refused before any work: the engine enforces the typed name whichever door asked.
    if (env.protection === 'protected' && !opts.to && opts.confirm !== env.name) {
      throw new LifeboatError('CONFIRMATION_REQUIRED', `${key} is protected: restoring over its live data needs its name typed to confirm.`, `Type the environment's name to confirm (on the command line: --confirm ${env.name}). Nothing was changed.`);
    }
    const plan = await planRestore(env, setDir, { to: opts.to, drill: opts.drill, signal });
    if (!plan.preview.ready) throw refusal(plan);
    const live = plan.preview.mode === 'live';
    const rid = `${plan.manifest.id}-${Date.now().toString(36)}`;
    const total = plan.targets.reduce((n, t) => n + restorerOf(t.source).stagedBytes(t.artifacts), 0);
    const progress = new ProgressMeter({ operation: 'restore', env: key }, { bytes: total, files: 0 }, opts.onProgress);
    const createdTo = !!opts.to && (await fs.mkdir(path.resolve(opts.to), { recursive: true, mode: 0o700 })) !== undefined;

    const entries: JournalSource[] = [];
    for (const t of plan.targets) {
      const dir = path.dirname(t.target);
      const base = path.basename(t.target);
      const staged = path.join(dir, `.${base}.lifeboat-staged-${rid}`);
      const aside = [t.target, ...restorerOf(t.source).companions(t.target)];
      const moves = [];
      for (const p of aside) if (live && (await fs.lstat(p).then(() => true, () => false))) moves.push({ from: p, to: path.join(dir, `.${path.basename(p)}.lifeboat-old-${rid}`) });
      moves.push({ from: staged, to: t.target });
      entries.push({ source: t.source.name, target: t.target, staged, moves });
    }
    const journal = await RestoreJournal.create(opts.home, { id: rid, env: key, location: env.location, setId: plan.manifest.id, pid: process.pid, createdAt: new Date().toISOString(), state: 'staging', sources: entries });

    let safetySet: RestoreResult['safetySet'] = null;
    try {
      if (live) {
        const existing = [];
        for (const e of entries) if (e.moves.length > 1) existing.push(env.sources.find((s) => s.name === e.source)!);
        if (existing.length) {
          progress.setPhase('safety backup');
          const sealed = await runBackup({ ...env, sources: existing }, { door: opts.door, label: 'pre-restore', lockHeld: true, signal });
          safetySet = { id: sealed.manifest.id, path: sealed.path };
        }
      }
      await faultPoint('restore:safety-done');

      for (const [i, t] of plan.targets.entries()) {
        throwIfAborted(signal);
        await fs.mkdir(path.dirname(t.target), { recursive: true, mode: 0o700 });
        await restorerOf(t.source).stage({ source: t.source, artifacts: t.artifacts, setDir, target: t.target, staged: entries[i]!.staged, signal, progress });
      }
      await faultPoint('restore:staged');
      throwIfAborted(signal);

      if (live) {
        for (const t of plan.targets) {
          const use = await restorerOf(t.source).inUse(t.source, t.target);
          if (use.status === 'busy') throw new LifeboatError('IN_USE', `${t.target} came into use while the restore was being prepared: in use by ${use.holders.join('; ')}.`, 'Close it and restore again. Your live data was not changed.');
          await restorerOf(t.source).beforeSwap?.(t.target);
        }
      }
      progress.setPhase('swap');
      await journal.setState('swapping');
      for (const e of entries) await journal.swap(e, () => faultPoint('restore:between-renames'));
      await faultPoint('restore:before-verify');

      progress.setPhase('verify');
      await journal.setState('verifying');
      const verification: DrillCheck[] = [];
      for (const t of plan.targets) verification.push(...(await restorerOf(t.source).verify({ source: t.source, artifacts: t.artifacts, setDir, target: t.target, signal, progress })));
      const bad = verification.filter((c) => c.status === 'FAIL');
      if (bad.length) {
        throw new LifeboatError('VERIFY_FAILED', `After the swap the data did not match the set (${bad.map((c) => `${c.target}: ${c.name} — ${c.reason}`).join('; ')}); the restore was rolled back.`, 'Your data is as it was before the restore. Run a drill on the set and report this with the activity log.');
      }
      await journal.setState('committed');
      await journal.discardOld();
      await journal.remove();
      return { env: key, setId: plan.manifest.id, mode: plan.preview.mode, targets: plan.targets.map((t) => ({ source: t.source.name, path: t.target })), safetySet, verification, durationMs: performance.now() - started };
    } catch (err) {
      await journal.rollBack();
      await journal.remove();
      if (createdTo) await fs.rmdir(path.resolve(opts.to!)).catch(() => undefined);
      if (signal.aborted && !(err instanceof LifeboatError && err.code !== 'CANCELLED')) throw cancelled();
      if (err instanceof LifeboatError) throw err;
      throw fsError(err, env.location, true) ?? err;
    }
  } finally {
    await lock.release();
  }
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
      lock = await acquireLock(j.location, j.env, { operation: 'restore recovery', door: 'engine' });
    } catch (err) {
      if (err instanceof LifeboatError && err.code === 'LOCKED') continue; // that restore is still running
      // The location is unreachable (an unmounted disk): say so, keep the journal for the next
      // start, and let every other command work.
      notes.push({ env: j.env, message: `An interrupted restore of ${j.setId} could not be rolled back yet: its backup location ${j.location} cannot be opened (${err instanceof Error ? err.message : String(err)}). Mount it again; the next command will finish the roll-back.` });
      continue;
    }
    try {
      if (j.state === 'committed') {
        await journal.discardOld();
        notes.push({ env: j.env, message: `A restore of ${j.setId} had finished and been verified when it was interrupted; its clean-up is now done.` });
      } else {
        await journal.rollBack();
        notes.push({ env: j.env, message: `A restore of ${j.setId} was interrupted (${j.state}) and has been rolled back: the data is as it was before it.` });
      }
      await journal.remove();
    } finally {
      await lock.release();
    }
  }
  return notes;
}
