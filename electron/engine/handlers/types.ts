import type { z } from 'zod';
import type { ActivityAction, ActivityOutcome } from '../../../shared/activity.js';
import type { Api, MethodName, ResultOf } from '../../../shared/api.js';
import type { Environment } from '../../../shared/environment.js';
import type { ErrorShape } from '../../../shared/errors.js';
import type { Progress } from '../../../shared/progress.js';
import type { Catalog } from '../catalog.js';

/** What every call carries besides its arguments. */
export interface CallContext {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Names the call so that `job.cancel` can stop it; a name already running is refused. */
  job?: string;
}

/** How a failure of a logged call is written: its summary and detail, from the error. */
export type FailureEntry = (shape: ErrorShape) => { summary: string; detail?: unknown };

/**
 * What a handler tells the one writer of the activity log (the engine's dispatch). The handler says
 * what the call is about and what a success says; the dispatch writes the entry, with the outcome
 * of `loggedOutcome` for a failure, so no handler decides an outcome or spells an action of its own.
 */
export interface ActivityNote {
  /** From here on a failure of this call is logged, under `env` as `action` (by default its summary is the error's message). */
  about(env: string | null, action: ActivityAction, failure?: FailureEntry): void;
  /** The entry a success writes: of the subject given to `about` unless `subject` names one. */
  done(summary: string, more?: { detail?: unknown; outcome?: ActivityOutcome; subject?: { env: string | null; action: ActivityAction } }): void;
}

/** What a handler gets with its arguments. */
export interface HandlerContext extends CallContext {
  log: ActivityNote;
}

/** What handlers use of the engine: its catalog and home, its door, and its calls (for scheduled runs). */
export interface EngineCore {
  readonly catalog: Catalog;
  readonly home: string;
  readonly door: string;
  /** How the operating system's timer starts `lifeboat run-due`. */
  runDueCommand: string[] | null;
  call<M extends MethodName>(method: M, rawArgs: unknown, ctx?: CallContext): Promise<ResultOf<M>>;
  /** Tells change listeners that `env` (a key, or null for all) changed. */
  tell(env: string | null): void;
  /** Resolves `prod` (when unique) or `app/prod` to one environment. */
  environment(ref: string): Environment;
}

export type Handler<M extends MethodName> = (args: z.output<Api[M]['args']>, ctx: HandlerContext) => Promise<ResultOf<M>>;

/** A part of the handler table, typed against the contract. */
export type HandlerTable<K extends MethodName = MethodName> = { [M in K]: Handler<M> };
