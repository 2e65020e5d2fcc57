import type { ArgsOf, EnvironmentSummary, MethodName, ResultOf } from '../../../../shared/api.js';
import type { CallOptions, LifeboatBridge, Outcome } from '../../../../shared/bridge.js';
import type { ErrorShape } from '../../../../shared/errors.js';
import { Job } from './job.svelte.js';
import { SESSION_CODES } from '../web-bridge.js';
import type { StatusResult } from '../../../../shared/status.js';

export type Tab = 'overview' | 'history' | 'activity' | 'settings';

/** A part of the environment editor it can open at. */
export type EditorSection = 'schedule' | 'retention' | 'alerts';

/** What the right-hand side shows over the environment's tabs. */
export type Panel =
  | { kind: 'backup'; job: Job<'backup.run'> }
  | { kind: 'drill'; set: string }
  | { kind: 'restore'; set?: string; elsewhere?: boolean }
  | { kind: 'editor'; env?: string; section?: EditorSection }
  | { kind: 'all-activity' };

/** An error as the funnel shows it: what the operator was doing, then the engine's message and hint. */
export interface ShownError extends ErrorShape {
  doing: string;
}

/**
 * The app's state: the environments, which one is selected, what the right-hand side shows, the
 * running jobs, and the one error funnel every screen reports through.
 */
export class AppState {
  environments = $state<EnvironmentSummary[]>([]);
  loaded = $state(false);
  selected = $state<string | null>(null);
  tab = $state<Tab>('overview');
  panel = $state<Panel | null>(null);
  error = $state<ShownError | null>(null);
  /** Health of every environment, for the sidebar and the banner. */
  status = $state<StatusResult | null>(null);
  jobs = $state<Job<MethodName>[]>([]);
  /** Bumped whenever something changed, so that screens fetch again. */
  version = $state(0);
  /** The clock ages are shown against; ticks every 20 s. */
  now = $state(Date.now());
  /**
   * Set when the web host refuses this page's session (its address was already used, or the host
   * was restarted): nothing can be read, so the app shows only why and what to do, never screens
   * that would look like Lifeboat without data.
   */
  sessionLost = $state<ErrorShape | null>(null);

  constructor(readonly bridge: LifeboatBridge) {
    bridge.onEvent((event) => {
      if (event.type === 'changed') void this.refresh();
    });
    setInterval(() => (this.now = Date.now()), 20_000);
    // Health changes with time alone (a backup becomes overdue), so it is read again every minute.
    setInterval(() => void this.recheck(), 60_000);
  }

  /** Reads the health of every environment again, quietly: a failure here leaves the last answer. */
  async recheck(): Promise<void> {
    if (!this.loaded) return;
    const status = await this.ask('status.get', {});
    if (status.ok) this.status = status.result;
  }

  statusOf(key: string) {
    return this.status?.environments.find((e) => e.env === key);
  }

  get current(): EnvironmentSummary | null {
    return this.environments.find((e) => e.key === this.selected) ?? null;
  }

  /** Calls the engine; a failure goes to the error funnel (or the session screen) and the answer is undefined. */
  async call<M extends MethodName>(method: M, args: ArgsOf<M>, doing: string, options?: CallOptions): Promise<ResultOf<M> | undefined> {
    const outcome = await this.ask(method, args, options);
    if (outcome.ok) return outcome.result;
    if (!this.sessionLost) this.error = { ...outcome.error, doing };
    return undefined;
  }

  /** Calls the engine and hands back the outcome, for screens that show the error in place. */
  async ask<M extends MethodName>(method: M, args: ArgsOf<M>, options?: CallOptions): Promise<Outcome<ResultOf<M>>> {
    const fn = this.bridge.methods[method] as (a: ArgsOf<M>, o?: CallOptions) => Promise<Outcome<ResultOf<M>>>;
    const outcome = await fn(args, options).catch((err: unknown) => ({
      ok: false as const,
      error: { code: 'DOOR_FAILED', message: `Lifeboat could not be reached: ${err instanceof Error ? err.message : String(err)}.`, hint: 'Reload the window; if this repeats, restart Lifeboat.' },
    }));
    if (!outcome.ok && SESSION_CODES.includes(outcome.error.code)) {
      this.sessionLost = outcome.error;
      this.error = null;
    }
    return outcome;
  }

  async refresh(): Promise<void> {
    const list = await this.call('env.list', {}, 'Loading the environments');
    if (list) {
      this.environments = list;
      if (!this.selected || !list.some((e) => e.key === this.selected)) this.selected = list[0]?.key ?? null;
      const status = await this.ask('status.get', {});
      if (status.ok) this.status = status.result;
    }
    this.loaded = true;
    this.version++;
  }

  select(key: string): void {
    this.selected = key;
    this.panel = null;
    this.tab = 'overview';
  }

  show(tab: Tab): void {
    this.tab = tab;
    this.panel = null;
  }

  /** Starts a backup of the selected environment (or shows the one already running). */
  backUp(): void {
    const env = this.current;
    if (!env) return;
    const running = this.jobs.find((j) => j.method === 'backup.run' && j.env === env.key && j.state === 'running') as Job<'backup.run'> | undefined;
    const job = running ?? this.start('backup.run', { env: env.key }, env.key);
    this.panel = { kind: 'backup', job };
  }

  /** Starts a long call as a job with progress and Cancel, and keeps it listed while it runs. */
  start<M extends MethodName>(method: M, args: ArgsOf<M>, env: string): Job<M> {
    const job = new Job(this, method, args, env);
    this.jobs.push(job as unknown as Job<MethodName>);
    void job.run().finally(() => {
      this.jobs = this.jobs.filter((j) => j !== (job as unknown));
      void this.refresh();
    });
    return job;
  }
}
