import type { ErrorShape } from '../../shared/errors.js';
import type { RunDueResult } from '../../shared/schedule.js';
import type { Engine } from './engine.js';
import { toErrorShape } from './errors.js';

export interface SchedulerOptions {
  /** How often to look for due jobs (default a minute); a missed slot is caught at the next look. */
  everyMs?: number;
  /** Told after each look that ran something. */
  onRun?: (result: RunDueResult) => void;
  /** Told when a look failed as a whole (another runner holding the lock is not a failure). */
  onError?: (error: ErrorShape) => void;
}

/**
 * Runs due jobs while the app or the web host is open: it looks at once when started (so a slot
 * missed while the machine was off runs now, marked late), then every minute. Each job goes
 * through the engine, so it is logged and the engine's `onChange` listeners are told.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private controller: AbortController | undefined;
  private started = false;

  constructor(
    private readonly engine: Engine,
    private readonly options: SchedulerOptions = {},
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.later(0);
  }

  /** Stops looking and cancels a job in progress (its partial set is removed); resolves once it has stopped. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.controller?.abort();
    await this.running;
  }

  /** One look: runs what is due now. Null when another runner (the system timer) holds the lock. */
  async tick(): Promise<RunDueResult | null> {
    this.controller = new AbortController();
    try {
      const result = await this.engine.call('schedule.runDue', {}, { signal: this.controller.signal });
      if (result.ran.length) this.options.onRun?.(result);
      return result;
    } catch (err) {
      const shape = toErrorShape(err);
      if (shape.code !== 'LOCKED') this.options.onError?.(shape);
      return null;
    }
  }

  private later(delay: number): void {
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (this.started) this.later(this.options.everyMs ?? 60_000);
      });
    }, delay);
    this.timer.unref();
  }
}
