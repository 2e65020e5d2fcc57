import { environmentKey, type Environment, type Source } from '../../shared/environment.js';
import type { MethodName } from '../../shared/api.js';
import { formatDuration } from '../../shared/format.js';
import type { Catalog } from './catalog.js';
import { cancelled, LifeboatError } from './errors.js';
import { loggedOutcome } from '../../shared/outcome.js';
import type { ActivityAction } from '../../shared/activity.js';
import { kindOf } from './sources/index.js';
import { JobWatch, type Whereabouts } from './watchdog.js';

/** The calls watched for stalls, with the word the activity log and the messages use for them. */
const WATCHED: Partial<Record<MethodName, ActivityAction & ('backup' | 'drill' | 'restore' | 'prune')>> = {
  'backup.run': 'backup',
  'drill.run': 'drill',
  'restore.run': 'restore',
  'sets.prune': 'prune',
};

/** Fifteen minutes without a byte, a file, a folder or a new stage: far beyond any slow disk or big file's fsync. */
const DEFAULT_STALL_MS = 15 * 60_000;

/** The stall bound: `LIFEBOAT_STALL_SECONDS` when set to a positive number. */
export function stallBoundMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.LIFEBOAT_STALL_SECONDS);
  return Number.isFinite(s) && s > 0 ? s * 1000 : DEFAULT_STALL_MS;
}

/** How a source's place is named in a message: its path, or what it talks to. */
function placeOf(source: Source): string {
  return kindOf(source).placeOf(source);
}

export interface JobOptions {
  stallMs: number;
  graceMs: number;
  /** Finds the environment a call names, for messages and the log; undefined when it cannot. */
  environment: (ref: string) => Environment | undefined;
}

/**
 * Runs calls as jobs. A backup, drill, restore or prune that makes no progress for `stallMs` is
 * stopped with STALLED, naming its stage and the path it was at. A job told to stop (a cancel, a
 * stall) that still makes no progress `graceMs` later waits on something that ignores its signal
 * (a read on a hung disk): the call ends at once with the reason, logged, and the work is left to
 * finish on its own when that read returns (it holds the environment's lock until then).
 */
export class Jobs {
  private readonly running = new Set<Promise<unknown>>();
  /** Work whose call already ended because it would not stop; it still runs. */
  abandoned = 0;

  constructor(
    private readonly catalog: Catalog,
    private readonly door: string,
  ) {}

  async run<T>(method: MethodName, args: unknown, signals: AbortSignal[], opts: JobOptions, work: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    const action = WATCHED[method];
    if (!action && !signals.length) return work(undefined);
    const ref = (args as { env?: unknown }).env;
    const env = () => (typeof ref === 'string' ? opts.environment(ref) : undefined);
    const watch = new JobWatch({ stallMs: action ? opts.stallMs : null, graceMs: opts.graceMs, signals, onStall: (where) => stalledError(action ?? 'job', env(), where, opts.stallMs) });
    const running = watch.run(() => work(watch.signal));
    this.running.add(running);
    running.then(
      () => this.settled(running, watch),
      () => this.settled(running, watch),
    );
    const gaveUp = watch.gaveUp.catch((stall: Error | null) => {
      this.abandoned++;
      throw this.abandonedError(action, env(), stall, opts.graceMs);
    });
    try {
      return await Promise.race([running, gaveUp]);
    } catch (err) {
      // A plug-in that turned the stall into CANCELLED outside the job's context still ends with why.
      if (watch.stall && err instanceof LifeboatError && err.code === 'CANCELLED') throw watch.stall;
      throw err;
    } finally {
      watch.stop();
    }
  }

  /** Settles once every job, abandoned ones included, has ended (tests, and a door shutting down). */
  async whenIdle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private settled(running: Promise<unknown>, watch: JobWatch): void {
    this.running.delete(running);
    if (watch.abandoned) this.abandoned--;
  }

  /** The error a given-up job ends with, logged here since its own code has not returned to log it. */
  private abandonedError(action: ActivityAction | undefined, env: Environment | undefined, stall: Error | null, graceMs: number): LifeboatError {
    const why = stall instanceof LifeboatError ? stall : cancelled();
    const check = stall
      ? why.hint
      : `Check that ${env ? `the backup location ${env.location} and the sources` : 'the backup location and the sources'} answer (a network share that hangs, a failing or sleeping disk).`;
    const err = new LifeboatError(
      why.code,
      `${why.message} It was waiting on a read or write that did not return within ${formatDuration(graceMs)} of being stopped, so Lifeboat stopped waiting for it.`,
      `${check} The environment stays locked until that read returns; then its half-done work is removed, or the next run removes it.`,
    );
    if (action) {
      this.catalog.addActivity({ env: env ? environmentKey(env) : null, action, door: this.door, outcome: loggedOutcome(why.code), summary: err.message, detail: err.toShape() });
    }
    return err;
  }
}

/** STALLED, naming the operation, the stage and the place it was reading or writing. */
function stalledError(action: string, env: Environment | undefined, where: Whereabouts, stallMs: number): LifeboatError {
  const source = where.source ? env?.sources.find((s) => s.name === where.source) : undefined;
  const location = env ? `the backup location ${env.location}` : 'the backup location';
  const place = source && (action === 'backup' || action === 'restore') ? `${placeOf(source)} or ${location}` : location;
  const stage = `stage "${where.phase}"${where.source ? ` of source "${where.source}"` : ''}`;
  return new LifeboatError(
    'STALLED',
    `The ${action} of ${env ? environmentKey(env) : 'the environment'} made no progress for ${formatDuration(stallMs)} at ${stage}, working on ${place}.`,
    `Something there stopped answering: check that ${place} responds (a network share that hangs, a failing or sleeping disk), then run it again. It was stopped as a cancel stops it. If this work is legitimately silent for that long, raise LIFEBOAT_STALL_SECONDS (now ${Math.round(stallMs / 1000)}).`,
  );
}
