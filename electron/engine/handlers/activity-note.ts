import type { ActivityAction, ActivityOutcome } from '../../../shared/activity.js';
import { loggedOutcome } from '../../../shared/outcome.js';
import type { Catalog } from '../catalog.js';
import { toErrorShape } from '../errors.js';
import { currentJob } from '../watchdog.js';
import type { ActivityNote, FailureEntry } from './types.js';

type Subject = { env: string | null; action: ActivityAction };

/**
 * One call's activity entry, written by the dispatch when the handler has returned or thrown: a
 * success as the handler described it, a failure with the outcome its code has. A call that fails
 * before it said what it is about (an unknown environment, bad arguments) writes nothing.
 */
export class CallActivity implements ActivityNote {
  private subject: Subject | null = null;
  private failure: FailureEntry = (shape) => ({ summary: shape.message, detail: shape });
  private success: { summary: string; detail?: unknown; outcome: ActivityOutcome; subject: Subject } | null = null;

  constructor(
    private readonly catalog: Catalog,
    private readonly door: string,
  ) {}

  about(env: string | null, action: ActivityAction, failure?: FailureEntry): void {
    this.subject = { env, action };
    if (failure) this.failure = failure;
  }

  done(summary: string, more: { detail?: unknown; outcome?: ActivityOutcome; subject?: Subject } = {}): void {
    const subject = more.subject ?? this.subject;
    if (!subject) throw new Error('An activity entry needs its environment and action: call about() first.');
    this.success = { summary, detail: more.detail, outcome: more.outcome ?? 'success', subject };
  }

  /** Writes the success entry, if the handler described one. */
  succeeded(): void {
    if (!this.success) return;
    const { subject, ...entry } = this.success;
    this.catalog.addActivity({ ...subject, door: this.door, ...entry });
  }

  /** Writes the failure entry of a call that said what it was about; a job given up on was logged when its call ended. */
  failed(err: unknown): void {
    if (!this.subject || currentJob()?.abandoned) return;
    const shape = toErrorShape(err);
    const { summary, detail } = this.failure(shape);
    this.catalog.addActivity({ ...this.subject, door: this.door, outcome: loggedOutcome(shape.code), summary, detail });
  }
}
