import type { ErrorShape } from './errors.js';
import type { ArgsOf, MethodName, ResultOf } from './api.js';
import type { BridgeEvent } from './events.js';

/**
 * How the renderer reaches the engine, whatever the door: the Electron preload and the web host's
 * client both provide exactly this. Methods never throw for an engine failure; they answer with the
 * error shape, so the renderer has one funnel for message and hint.
 */
export type Outcome<T> = { ok: true; result: T } | { ok: false; error: ErrorShape };

/** Options of one call: `job` names it so its progress events can be matched and it can be cancelled. */
export interface CallOptions {
  job?: string;
}

/** One function per contract method, named exactly as in `shared/api.ts`; nothing else. */
export type LifeboatMethods = {
  [M in MethodName]: (args: ArgsOf<M>, options?: CallOptions) => Promise<Outcome<ResultOf<M>>>;
};

/** Pushed by the door while work runs: the schema is shared/events.ts's. */
export type { BridgeEvent };

export interface LifeboatBridge {
  /** Which door this is: the app (Electron) or the web host. */
  readonly door: 'app' | 'web';
  readonly methods: LifeboatMethods;
  /** Subscribes to pushed events; returns the unsubscribe function. */
  onEvent(listener: (event: BridgeEvent) => void): () => void;
}

/** The names of the contract's methods, for doors that must expose exactly them. */
export type { MethodName };
