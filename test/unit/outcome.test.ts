import { describe, expect, it } from 'vitest';
import { ERROR_CLASSES, EXIT_CODES } from '../../shared/errors.js';
import { exitCodeOf, loggedOutcome, outcomeOf } from '../../shared/outcome.js';

/** Every code with the outcome an operator meets: in the activity log and as the CLI's exit code. */
const EXPECTED: Record<keyof typeof ERROR_CLASSES, [ReturnType<typeof loggedOutcome>, number]> = {
  BAD_ENVIRONMENT: ['failed', 2],
  BAD_ARGUMENT: ['failed', 2],
  UNKNOWN_ENVIRONMENT: ['failed', 2],
  AMBIGUOUS_ENVIRONMENT: ['failed', 2],
  UNKNOWN_SET: ['failed', 2],
  NO_SETS: ['failed', 2],
  SOURCE_MISSING: ['failed', 2],
  SOURCE_UNREADABLE: ['failed', 2],
  SOURCE_NOT_SQLITE: ['failed', 2],
  SOURCE_NOT_FOLDER: ['failed', 2],
  SOURCE_TOO_DEEP: ['failed', 2],
  LOCATION_UNWRITABLE: ['failed', 2],
  LOCATION_INSIDE_SOURCE: ['failed', 2],
  SOURCE_INSIDE_LOCATION: ['failed', 2],
  NEWER_FORMAT: ['failed', 2],
  NOT_A_SET: ['failed', 2],
  BAD_PATH: ['failed', 2],
  PATH_TOO_LONG: ['failed', 2],
  SOURCE_CHANGED: ['failed', 1],
  SOURCE_READ_FAILED: ['failed', 1],
  DISK_FULL: ['failed', 1],
  WRITE_FAILED: ['failed', 1],
  CATALOG_FAILED: ['failed', 1],
  DRILL_FAILED: ['failed', 1],
  CANCELLED: ['cancelled', 1],
  STALLED: ['failed', 1],
  INTERNAL: ['failed', 1],
  LOCKED: ['refused', 3],
  IN_USE: ['refused', 3],
  CONFIRMATION_REQUIRED: ['refused', 3],
  SET_FAILED_DRILL: ['refused', 3],
  NOT_ENOUGH_SPACE: ['refused', 3],
  TARGET_NOT_EMPTY: ['refused', 3],
  TARGET_NOT_APART: ['refused', 3],
  UNSAFE_ARCHIVE: ['failed', 1],
  STAGE_FAILED: ['failed', 1],
  RESTORE_FAILED: ['failed', 1],
  VERIFY_FAILED: ['failed', 1],
  WRONG_HOST: ['refused', 3],
  FOREIGN_ORIGIN: ['refused', 3],
  FOREIGN_FRAME: ['refused', 3],
  NO_SESSION: ['refused', 3],
  TOKEN_USED: ['refused', 3],
  NOT_JSON: ['failed', 2],
  BAD_REQUEST: ['failed', 2],
  TOO_LARGE: ['failed', 2],
  UNKNOWN_METHOD: ['failed', 2],
  NOT_FOUND: ['failed', 2],
  UNREACHABLE: ['failed', 1],
  SET_PINNED: ['refused', 3],
  LOCATION_UNREADABLE: ['refused', 3],
  SET_UNREADABLE: ['refused', 3],
  TIMER_FAILED: ['failed', 1],
  TOOL_MISSING: ['failed', 2],
  TOOL_TOO_OLD: ['failed', 2],
  AUTH_FAILED: ['failed', 2],
  PASSWORD_MISSING: ['failed', 2],
  TIMED_OUT: ['failed', 1],
  COMMAND_FAILED: ['failed', 1],
};

describe('outcomeOf: one rule for what a failure is', () => {
  it.each(Object.keys(ERROR_CLASSES) as (keyof typeof ERROR_CLASSES)[])('%s', (code) => {
    expect([loggedOutcome(code), exitCodeOf(code)]).toEqual(EXPECTED[code]);
    // The log's outcome and the exit code come from the same class.
    const outcome = outcomeOf(code);
    expect(outcome === 'cancelled' ? ERROR_CLASSES[code] : outcome).toBe(ERROR_CLASSES[code]);
    expect(exitCodeOf(code)).toBe(EXIT_CODES[ERROR_CLASSES[code]]);
  });

  it('covers every code, and an unknown code is a failure', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(ERROR_CLASSES).sort());
    expect([outcomeOf('SOMETHING_NEW'), loggedOutcome('SOMETHING_NEW'), exitCodeOf('SOMETHING_NEW')]).toEqual(['failed', 'failed', 1]);
  });
});
