import { AsyncLocalStorage } from 'node:async_hooks';

/** Where a job last was: the stage its ProgressMeter named and the source it worked on. */
export interface Whereabouts {
  phase: string;
  source: string | null;
}

/**
 * A bound is counted in this many ticks with no progress. An event loop blocked by one long
 * synchronous step (SQLite's one-step online backup, an integrity check) lets at most one tick
 * through, so such a step is never taken for a stall, however long it lasts.
 */
const TICKS = 10;

const current = new AsyncLocalStorage<JobWatch>();

/**
 * Watches one running job (a backup, drill, restore or prune call). Progress is whatever its
 * ProgressMeter counts (bytes and files on the stream, a new stage), a folder walked, a set read or
 * removed. While a program with its own time limit runs (pg_dump, a dump command), that limit
 * governs instead. Two bounds:
 * - running, `stallMs` with no progress: the job's signal is aborted with `onStall`'s error;
 * - once aborted (cancelled or stalled), `graceMs` with no progress: the job is abandoned, because
 *   it waits on something that ignores the signal (a read on a hung disk); `abandoned` settles.
 * A job started inside another (a scheduled run's backup) counts as progress of the outer one too.
 */
export class JobWatch {
  private readonly controller = new AbortController();
  /** The job's signal: aborted by any of the caller's signals, or with the STALLED error when it stalls. */
  readonly signal: AbortSignal;
  where: Whereabouts = { phase: 'starting', source: null };
  /** The error the job stalled with, once it has. */
  stall: Error | null = null;
  /** Set once the job was given up on, so that its late end does not log a second time. */
  abandoned = false;
  /** Rejects (with the stall, or null after a cancel) once the job has been given up on; never resolves. */
  readonly gaveUp: Promise<never>;
  private quiet = 0;
  private holds = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly parent = current.getStore();
  private giveUp: (() => void) | undefined;
  private stopping: (() => void) | undefined;
  private done = false;

  constructor(opts: { stallMs: number | null; graceMs: number; onStall: (where: Whereabouts) => Error; signals: AbortSignal[] }) {
    this.signal = AbortSignal.any([...opts.signals, this.controller.signal]);
    this.gaveUp = new Promise<never>((_, reject) => {
      this.giveUp = () => reject(this.stall);
    });
    this.gaveUp.catch(() => undefined);
    const { stallMs, graceMs, onStall } = opts;
    if (stallMs !== null) {
      this.every(stallMs, () => {
        this.stall = onStall(this.where);
        this.controller.abort(this.stall);
      });
    }
    this.stopping = () => this.every(graceMs, () => this.abandon());
    if (this.signal.aborted) this.stopping();
    else this.signal.addEventListener('abort', this.stopping, { once: true });
  }

  /** Runs `fn` as this job: ProgressMeters made inside report to it. */
  run<T>(fn: () => T): T {
    return current.run(this, fn);
  }

  touch(): void {
    this.quiet = 0;
    this.parent?.touch();
  }

  /** A new stage: progress, and where a stall would be reported. */
  at(where: Whereabouts): void {
    this.where = where;
    this.touch();
  }

  /** While held (a program with its own time limit runs), no tick counts; returns the release. */
  hold(): () => void {
    this.holds++;
    const releaseParent = this.parent?.hold();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      releaseParent?.();
      this.touch();
    };
  }

  /** Ends the watch once the job has settled: a later abort of the caller's signal changes nothing. */
  stop(): void {
    this.done = true;
    clearInterval(this.timer);
    if (this.stopping) this.signal.removeEventListener('abort', this.stopping);
  }

  private every(boundMs: number, onQuiet: () => void): void {
    if (this.done) return;
    clearInterval(this.timer);
    this.quiet = 0;
    this.timer = setInterval(
      () => {
        if (this.holds > 0) this.quiet = 0;
        else if (++this.quiet >= TICKS) onQuiet();
      },
      Math.max(1, boundMs / TICKS),
    );
    this.timer.unref();
  }

  private abandon(): void {
    this.stop();
    this.abandoned = true;
    this.giveUp?.();
  }
}

/** The job the calling code runs in, if any. */
export function currentJob(): JobWatch | undefined {
  return current.getStore();
}

/** Counts as progress of the current job (a folder walked, a set removed). */
export function noteProgress(): void {
  current.getStore()?.touch();
}

/** Suspends the stall bound while a program with its own time limit runs; call the result when it has exited. */
export function holdWatch(): () => void {
  return current.getStore()?.hold() ?? (() => undefined);
}
