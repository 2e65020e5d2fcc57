import { z } from 'zod';

/**
 * Every failure that reaches an operator has this shape: what is wrong (`message`) and what to
 * do next (`hint`). `code` is stable so that doors and scripts can branch on it.
 */
export const ErrorShape = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string(),
  /** Field paths and their problems, when the input had several at once. */
  problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorShape = z.infer<typeof ErrorShape>;

/**
 * How a failure is classed, which decides the CLI's exit code:
 * `failed` 1 (the operation or a check failed), `input` 2 (bad input or usage),
 * `refused` 3 (refused for safety: lock held, confirmation missing, target in use).
 */
export type ErrorClass = 'failed' | 'input' | 'refused';

export const ERROR_CLASSES = {
  BAD_ENVIRONMENT: 'input',
  BAD_ARGUMENT: 'input',
  UNKNOWN_ENVIRONMENT: 'input',
  AMBIGUOUS_ENVIRONMENT: 'input',
  UNKNOWN_SET: 'input',
  NO_SETS: 'input',
  SOURCE_MISSING: 'input',
  SOURCE_UNREADABLE: 'input',
  SOURCE_NOT_SQLITE: 'input',
  SOURCE_NOT_FOLDER: 'input',
  /** A folder tree deeper than an archive can hold (node-tar's 1,024 parts a name). */
  SOURCE_TOO_DEEP: 'input',
  LOCATION_UNWRITABLE: 'input',
  /** The backup location is, by real path (links resolved), inside the folder of a files source. */
  LOCATION_INSIDE_SOURCE: 'input',
  /** A source's file or folder is, by real path, inside the backup location. */
  SOURCE_INSIDE_LOCATION: 'input',
  NEWER_FORMAT: 'input',
  NOT_A_SET: 'input',
  /** A path with a NUL byte: no filesystem can hold it. */
  BAD_PATH: 'input',
  /** A path past the filesystem's limits (4095 bytes, or a name past 255). */
  PATH_TOO_LONG: 'input',
  SOURCE_CHANGED: 'failed',
  SOURCE_READ_FAILED: 'failed',
  DISK_FULL: 'failed',
  WRITE_FAILED: 'failed',
  CATALOG_FAILED: 'failed',
  DRILL_FAILED: 'failed',
  CANCELLED: 'failed',
  /** A backup, drill, restore or prune made no progress for the stall bound (a hung disk or share). */
  STALLED: 'failed',
  INTERNAL: 'failed',
  LOCKED: 'refused',
  IN_USE: 'refused',
  CONFIRMATION_REQUIRED: 'refused',
  SET_FAILED_DRILL: 'refused',
  NOT_ENOUGH_SPACE: 'refused',
  TARGET_NOT_EMPTY: 'refused',
  /** A restore test's folder inside a files source's live folder or the backup location (by real path). */
  TARGET_NOT_APART: 'refused',
  UNSAFE_ARCHIVE: 'failed',
  STAGE_FAILED: 'failed',
  RESTORE_FAILED: 'failed',
  VERIFY_FAILED: 'failed',
  // The doors' own refusals (web host and Electron IPC): nothing reached the engine.
  WRONG_HOST: 'refused',
  FOREIGN_ORIGIN: 'refused',
  FOREIGN_FRAME: 'refused',
  NO_SESSION: 'refused',
  /** The web host's one-time address was opened again: its token was already traded for a session. */
  TOKEN_USED: 'refused',
  NOT_JSON: 'input',
  BAD_REQUEST: 'input',
  TOO_LARGE: 'input',
  UNKNOWN_METHOD: 'input',
  NOT_FOUND: 'input',
  UNREACHABLE: 'failed',
  // Retention, pins and the system timer.
  SET_PINNED: 'refused',
  LOCATION_UNREADABLE: 'refused',
  SET_UNREADABLE: 'refused',
  TIMER_FAILED: 'failed',
  // PostgreSQL and command sources.
  /** A program a source needs (pg_dump, pg_restore, psql, the dump command) is not installed. */
  TOOL_MISSING: 'input',
  /** pg_dump or pg_restore is older than the server or the dump. */
  TOOL_TOO_OLD: 'input',
  /** The server refused the user or password. */
  AUTH_FAILED: 'input',
  /** `passwordEnv` names a variable that is not set, or the passfile cannot be used. */
  PASSWORD_MISSING: 'input',
  /** A program ran past the source's time limit and was stopped. */
  TIMED_OUT: 'failed',
  /** A source's own command exited with an error or printed nothing. */
  COMMAND_FAILED: 'failed',
} as const satisfies Record<string, ErrorClass>;

export type ErrorCode = keyof typeof ERROR_CLASSES;

export function errorClass(code: string): ErrorClass {
  return (ERROR_CLASSES as Record<string, ErrorClass>)[code] ?? 'failed';
}

/** The CLI's documented exit codes. */
export const EXIT_CODES: Record<ErrorClass | 'ok', number> = { ok: 0, failed: 1, input: 2, refused: 3 };
