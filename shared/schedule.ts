import { z } from 'zod';
import { ErrorShape } from './errors.js';

/** One step of a scheduled job; `skipped` says why in `summary`. */
export const DueStep = z.object({
  kind: z.enum(['backup', 'drill', 'prune']),
  outcome: z.enum(['success', 'failed', 'refused', 'cancelled', 'skipped']),
  /** The set the step made or drilled. */
  setId: z.string().nullable(),
  summary: z.string(),
  error: ErrorShape.optional(),
});
export type DueStep = z.infer<typeof DueStep>;

/** What ran for one environment: one run per due slot however many were missed. */
export const DueJob = z.object({
  env: z.string(),
  /** The slot this run stands for. */
  slot: z.string(),
  /** True when the run started well after its slot (the machine was off or asleep). */
  late: z.boolean(),
  lateByMs: z.number().nonnegative(),
  /** Slots before this one that passed without a run (counted up to 1000); they are not run again. */
  missedSlots: z.number().int().nonnegative(),
  steps: z.array(DueStep),
});
export type DueJob = z.infer<typeof DueJob>;

export const RunDueResult = z.object({
  now: z.string(),
  ran: z.array(DueJob),
  /** Every scheduled environment and its next slot after this run. */
  next: z.array(z.object({ env: z.string(), nextDueAt: z.string().nullable() })),
});
export type RunDueResult = z.infer<typeof RunDueResult>;

/** The operating system's timer that calls `lifeboat run-due` while the app is closed. */
export const TimerResult = z.object({
  platform: z.enum(['linux', 'darwin', 'win32']),
  /** Files written (install) or removed (remove). */
  files: z.array(z.string()),
  /** The commands that activate (or deactivate) the timer, as argument lists. */
  commands: z.array(z.array(z.string())),
  /** Whether those commands were run and succeeded. */
  activated: z.boolean(),
  message: z.string(),
});
export type TimerResult = z.infer<typeof TimerResult>;
