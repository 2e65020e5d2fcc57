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

/**
 * How Linux runs the timer: `user` a systemd user timer (needs a user session, or lingering),
 * `system` a systemd system timer in /etc/systemd/system with `User=` (needs root), `cron` a
 * marked line in the user's crontab (works on a server with no session at all).
 */
export const LinuxTimerMethod = z.enum(['user', 'system', 'cron']);
export type LinuxTimerMethod = z.infer<typeof LinuxTimerMethod>;
/** Every kind of timer: the Linux ones, a launchd agent (macOS) and a Task Scheduler entry (Windows). */
export const TimerMethod = z.enum([...LinuxTimerMethod.options, 'launchd', 'schtasks']);
export type TimerMethod = z.infer<typeof TimerMethod>;

/** The operating system's timer that calls `lifeboat run-due` while the app is closed. */
export const TimerResult = z.object({
  platform: z.enum(['linux', 'darwin', 'win32']),
  /** The timer installed (one), or the timers found and removed (none, one or more). */
  methods: z.array(TimerMethod),
  /** Why this method was chosen (install), or what was found (remove). */
  reason: z.string(),
  /** Files written (install) or removed (remove). */
  files: z.array(z.string()),
  /** The commands that activate (or deactivate) the timer, as argument lists. */
  commands: z.array(z.array(z.string())),
  /** The crontab line, for the cron method. */
  crontabLine: z.string().optional(),
  /** Whether those commands were run and succeeded (for cron: whether the crontab was changed or already right). */
  activated: z.boolean(),
  message: z.string(),
});
export type TimerResult = z.infer<typeof TimerResult>;
