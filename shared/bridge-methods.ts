import { api, type MethodName } from './api.js';
import type { CallOptions, LifeboatMethods, Outcome } from './bridge.js';

/** Sends one call over a door's transport; never throws, answers with the error shape instead. */
export type Forward = (method: MethodName, args: unknown, options: CallOptions) => Promise<Outcome<unknown>>;

/**
 * One function per method of the contract, each forwarding under its own name: derived from `api`,
 * so a method added to the contract appears in every door's client without an edit, and nothing
 * else (no generic invoke) is ever part of it.
 */
export function contractMethods(forward: Forward): LifeboatMethods {
  const methods: Record<string, (args: unknown, options?: CallOptions) => Promise<Outcome<unknown>>> = {};
  for (const name of Object.keys(api) as MethodName[]) {
    methods[name] = (args, options) => forward(name, args, { ...(options?.job ? { job: options.job } : {}) });
  }
  // The loop above gives every key of LifeboatMethods a function of the right shape.
  return methods as LifeboatMethods;
}
