import { environmentKey, type Environment } from '../../shared/environment.js';
import { PRE_RESTORE_LABEL } from '../../shared/retention.js';
import type { DueJob, DueStep, RunDueResult } from '../../shared/schedule.js';
import type { Catalog } from './catalog.js';
import type { EngineCore } from './handlers/types.js';
import { toErrorShape } from './errors.js';
import { loggedOutcome } from '../../shared/outcome.js';
import type { ActivityAction } from '../../shared/activity.js';
import { acquireLock } from './store/folder-lock.js';
import { dueSlot, MISSED_CAP, nextSlot, type DueSlot } from './schedule.js';
import { span } from './monitoring.js';

/** The activity-log action that records which slot of an environment was handled. */
export const SCHEDULE_ACTION = 'schedule.run' satisfies ActivityAction;

/** What a scheduled run needs of the engine: its catalog, its door and its calls (so every step is logged and told). */
export type DueRunner = Pick<EngineCore, 'catalog' | 'door' | 'home' | 'call'>;

function failedStep(kind: DueStep['kind'], err: unknown): DueStep {
  const error = toErrorShape(err);
  return { kind, outcome: loggedOutcome(error.code), setId: null, summary: error.message, error };
}

/** Where the schedule stands for an environment: the later of the last slot handled and the last successful backup. */
function since(catalog: Catalog, key: string): Date | null {
  const handled = (catalog.latestActivity(key, SCHEDULE_ACTION)?.detail as { slot?: string } | null)?.slot;
  const newest = catalog.sets(key).find((s) => s.label !== PRE_RESTORE_LABEL)?.startedAt;
  const times = [handled, newest].filter((t): t is string => !!t).map((t) => Date.parse(t));
  return times.length ? new Date(Math.max(...times)) : null;
}

/** Backup, then (as the schedule says) a drill of the new set, then a prune; each step's outcome recorded. */
async function runJob(engine: DueRunner, env: Environment, due: DueSlot, signal: AbortSignal | undefined): Promise<DueJob> {
  const key = environmentKey(env);
  const schedule = env.schedule!;
  const steps: DueStep[] = [];
  let setId: string | null = null;
  try {
    const r = await engine.call('backup.run', { env: key }, { signal });
    setId = r.id;
    steps.push({ kind: 'backup', outcome: 'success', setId, summary: `Sealed ${r.id}` });
  } catch (err) {
    steps.push(failedStep('backup', err));
  }
  let drillPassed = true;
  if (schedule.drillAfter) {
    if (!setId) steps.push({ kind: 'drill', outcome: 'skipped', setId: null, summary: 'no new set to drill' });
    else {
      try {
        const report = await engine.call('drill.run', { env: key, set: setId }, { signal });
        drillPassed = report.passed;
        const failed = report.checks.filter((c) => c.status === 'FAIL').length;
        steps.push({
          kind: 'drill',
          outcome: report.passed ? 'success' : 'failed',
          setId,
          summary: report.passed ? `Drill passed ${report.checks.length} checks` : `Drill failed ${failed} of ${report.checks.length} checks`,
        });
      } catch (err) {
        drillPassed = false;
        steps.push({ ...failedStep('drill', err), setId });
      }
    }
  }
  if (schedule.pruneAfter) {
    if (!env.retention) steps.push({ kind: 'prune', outcome: 'skipped', setId: null, summary: 'the environment has no retention policy' });
    else if (!setId) steps.push({ kind: 'prune', outcome: 'skipped', setId: null, summary: 'the backup did not succeed, so nothing is pruned' });
    else if (!drillPassed) steps.push({ kind: 'prune', outcome: 'skipped', setId: null, summary: 'the drill of the new set did not pass, so nothing is pruned' });
    else {
      try {
        // The environment's own pruneAfter is the operator's standing confirmation.
        const r = await engine.call('sets.prune', { env: key, dryRun: false, confirm: key }, { signal });
        steps.push({ kind: 'prune', outcome: 'success', setId: null, summary: r.summary });
      } catch (err) {
        steps.push(failedStep('prune', err));
      }
    }
  }
  const job: DueJob = { env: key, slot: due.slot.toISOString(), late: due.late, lateByMs: due.lateByMs, missedSlots: due.missedSlots, steps };
  const order = ['failed', 'refused', 'cancelled', 'success'] as const;
  const outcome = order.find((o) => steps.some((s) => s.outcome === o)) ?? 'success';
  const late = due.late
    ? ` late by ${span(due.lateByMs)}${due.missedSlots ? `, after ${due.missedSlots >= MISSED_CAP ? 'at least ' : ''}${due.missedSlots} missed slot${due.missedSlots === 1 ? '' : 's'}` : ''}`
    : '';
  engine.catalog.addActivity({
    env: key,
    action: SCHEDULE_ACTION,
    door: engine.door,
    outcome,
    summary: `Scheduled run for ${due.slot.toISOString()}${late}: ${steps.map((s) => `${s.kind} ${s.outcome}`).join(', ')}`,
    detail: job,
  });
  return job;
}

/**
 * Runs whatever is due at `now`, one environment after another, and exits: for the operating
 * system's timer and for the app's scheduler alike. One runner at a time per Lifeboat home (a lock
 * beside the catalog), so the app and the timer never run one slot twice.
 */
export async function runDue(engine: DueRunner, now: Date, signal?: AbortSignal): Promise<RunDueResult> {
  const lock = await acquireLock(engine.home, 'scheduler', { operation: 'run-due', door: engine.door });
  try {
    const ran: DueJob[] = [];
    const next: RunDueResult['next'] = [];
    for (const env of engine.catalog.environments()) {
      if (!env.schedule || signal?.aborted) continue;
      const key = environmentKey(env);
      let due: DueSlot | null;
      try {
        due = dueSlot(env.schedule, since(engine.catalog, key), now);
      } catch {
        next.push({ env: key, nextDueAt: null });
        continue;
      }
      if (due) ran.push(await runJob(engine, env, due, signal));
      const upcoming = nextSlot(env.schedule, now);
      next.push({ env: key, nextDueAt: upcoming ? upcoming.toISOString() : null });
    }
    return { now: now.toISOString(), ran, next };
  } finally {
    await lock.release();
  }
}
