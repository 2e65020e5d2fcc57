import type { ArgsOf, MethodName, ResultOf } from '../../../../shared/api.js';
import type { ErrorShape } from '../../../../shared/errors.js';
import type { Progress } from '../../../../shared/progress.js';
import type { AppState } from './app.svelte.js';

let counter = 0;

/** One long call (backup, drill, restore) with its progress, its outcome, and Cancel. */
export class Job<M extends MethodName> {
  readonly id = `job-${Date.now().toString(36)}-${++counter}`;
  progress = $state<Progress | null>(null);
  state = $state<'running' | 'done' | 'failed' | 'cancelled'>('running');
  result = $state<ResultOf<M> | null>(null);
  error = $state<ErrorShape | null>(null);
  cancelling = $state(false);
  /** Settles when the call has answered, whatever the answer. */
  finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly app: AppState,
    readonly method: M,
    readonly args: ArgsOf<M>,
    readonly env: string,
  ) {}

  run(): Promise<void> {
    this.finished = this.answer();
    return this.finished;
  }

  private async answer(): Promise<void> {
    const off = this.app.bridge.onEvent((event) => {
      if (event.type === 'progress' && event.job === this.id) this.progress = event.progress;
    });
    try {
      const outcome = await this.app.ask(this.method, this.args, { job: this.id });
      if (outcome.ok) {
        this.result = outcome.result;
        this.state = 'done';
      } else {
        this.error = outcome.error;
        this.state = outcome.error.code === 'CANCELLED' ? 'cancelled' : 'failed';
      }
    } finally {
      off();
    }
  }

  async cancel(): Promise<void> {
    if (this.state !== 'running') return;
    this.cancelling = true;
    await this.app.ask('job.cancel', { job: this.id });
  }
}
