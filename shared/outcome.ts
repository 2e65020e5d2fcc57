import type { ActivityOutcome } from './activity.js';
import { errorClass, EXIT_CODES } from './errors.js';

/**
 * What a failure is, by its code: `cancelled` (stopped by the operator), `refused` (refused for
 * safety: a lock, a missing confirmation, a pin), `input` (bad input or usage) or `failed`. The one
 * rule behind the activity log's outcome, a scheduled step's outcome and the CLI's exit code; the
 * class of each code is `ERROR_CLASSES`'s.
 */
export type FailureOutcome = 'failed' | 'refused' | 'input' | 'cancelled';

export function outcomeOf(code: string): FailureOutcome {
  return code === 'CANCELLED' ? 'cancelled' : errorClass(code);
}

/**
 * The outcome the activity log records for a failure. Bad input there is a failed attempt: a
 * backup whose source is missing failed, and monitoring alerts on it.
 */
export function loggedOutcome(code: string): Exclude<ActivityOutcome, 'success'> {
  const outcome = outcomeOf(code);
  return outcome === 'input' ? 'failed' : outcome;
}

/** The CLI's exit code for a failure: a cancel is a failure (1). */
export function exitCodeOf(code: string): number {
  const outcome = outcomeOf(code);
  return EXIT_CODES[outcome === 'cancelled' ? 'failed' : outcome];
}
