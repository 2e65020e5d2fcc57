import { api, type MethodName, type ResultOf } from '../../shared/api.js';
import { environmentKey, type Environment } from '../../shared/environment.js';
import { Catalog } from './catalog.js';
import { LifeboatError } from './errors.js';
import { recoverInterruptedRestores } from './restore.js';
import { resolveEnvironment } from './set-index.js';
import { defaultCommand } from './system-timer.js';
import { Jobs, stallBoundMs } from './jobs.js';
import { CallActivity } from './handlers/activity-note.js';
import { backupHandlers } from './handlers/backup.js';
import { drillHandlers } from './handlers/drill.js';
import { environmentHandlers } from './handlers/environments.js';
import { kindHandlers } from './handlers/kinds.js';
import { restoreHandlers } from './handlers/restore.js';
import { scheduleHandlers } from './handlers/schedule.js';
import { setHandlers } from './handlers/sets.js';
import { statusHandlers } from './handlers/status.js';
import type { CallContext, EngineCore, HandlerContext, HandlerTable } from './handlers/types.js';

export type { CallContext } from './handlers/types.js';

/** Told after a call changed what screens show; `env` is the environment's key, or null for all. */
export type ChangeListener = (env: string | null) => void;

/** Methods that change sets, environments or the activity log, after which listeners are told. */
const CHANGING: ReadonlySet<MethodName> = new Set<MethodName>([
  'env.save',
  'env.demo',
  'backup.run',
  'drill.run',
  'restore.preflight',
  'restore.run',
  'catalog.rebuild',
  'sets.pin',
  'sets.delete',
  'sets.prune',
]);

/**
 * The engine behind every door. Doors call `call(method, rawArgs)`: the arguments are parsed with
 * the contract's schema here, before any work, so no door can skip validation. It dispatches to the
 * handlers (in handlers/, by area), runs calls as jobs, writes each call's activity entry and tells
 * listeners of changes; the work itself is the handlers'.
 */
export class Engine implements EngineCore {
  readonly catalog: Catalog;
  /** Interrupted restores found and finished at start, once per engine. */
  private recovery: Promise<{ env: string; message: string }[]> | undefined;
  /** Running calls by job name, so that any door can cancel them. */
  private readonly jobs = new Map<string, AbortController>();
  private readonly changeListeners = new Set<ChangeListener>();
  /** How the operating system's timer starts `lifeboat run-due`: the program and its first arguments. A door may set it (the packaged app does). */
  runDueCommand: string[] | null = defaultCommand();
  private readonly handlers: HandlerTable;

  constructor(
    readonly home: string,
    readonly door: string,
  ) {
    this.catalog = new Catalog(home);
    this.jobRunner = new Jobs(this.catalog, door);
    this.handlers = {
      ...environmentHandlers(this),
      ...kindHandlers(this),
      ...setHandlers(this),
      ...backupHandlers(this),
      ...drillHandlers(this),
      ...restoreHandlers(this),
      ...statusHandlers(this),
      ...scheduleHandlers(this),
      'job.cancel': async ({ job }) => {
        const controller = this.jobs.get(job);
        if (!controller) return { cancelled: false };
        controller.abort();
        return { cancelled: true };
      },
    };
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
    const handler = this.handlers[method] as (args: unknown, ctx: HandlerContext) => Promise<ResultOf<M>>;
    const job = ctx.job;
    if (job && this.jobs.has(job)) throw new LifeboatError('BAD_ARGUMENT', `A job named ${job} is already running.`, 'Give every call its own job name.');
    const controller = job ? new AbortController() : null;
    if (job) this.jobs.set(job, controller!);
    const signals = [ctx.signal, controller?.signal].filter((s): s is AbortSignal => !!s);
    const options = { stallMs: this.stallMs, graceMs: this.cancelGraceMs, environment: (ref: string) => this.catalog.findEnvironments(ref)[0] };
    try {
      const work = this.jobRunner.run(method, parsed.data, signals, options, (signal) => this.logged(handler, parsed.data, signal ? { ...ctx, signal } : ctx));
      return checkedResult(method, await this.told(method, parsed.data, work));
    } finally {
      if (job) this.jobs.delete(job);
    }
  }

  /** Runs a handler and writes the one activity entry it described, for its success or its failure. */
  private async logged<T>(handler: (args: unknown, ctx: HandlerContext) => Promise<T>, args: unknown, ctx: CallContext): Promise<T> {
    const log = new CallActivity(this.catalog, this.door);
    let result: T;
    try {
      result = await handler(args, { ...ctx, log });
    } catch (err) {
      log.failed(err);
      throw err;
    }
    log.succeeded();
    return result;
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

  tell(key: string | null): void {
    for (const listener of this.changeListeners) listener(key);
  }

  /** Resolves `prod` (when unique) or `app/prod` to one environment. */
  environment(ref: string): Environment {
    return resolveEnvironment(this.catalog, ref);
  }
}

/**
 * Under test (`LIFEBOAT_CHECK_RESULTS=1`, which `checkResultsAgainstContract()` in test/support sets for a
 * test file and the CLI and web hosts it starts) each result is parsed with its contract schema, so a handler whose result drifts from the contract
 * fails the test that called it. Operators' runs skip it: a result is never refused after its work is done.
 */
export function checkedResult<M extends MethodName>(method: M, result: ResultOf<M>): ResultOf<M> {
  if (process.env.LIFEBOAT_CHECK_RESULTS !== '1') return result;
  const parsed = api[method].result.safeParse(result);
  if (parsed.success) return result;
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`);
  throw new LifeboatError('INTERNAL', `The result of ${method} does not match its contract: ${problems.join('; ')}.`, 'This is a bug in Lifeboat: the handler and shared/api.ts disagree.');
}
