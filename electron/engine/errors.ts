import { errorClass, type ErrorCode, type ErrorShape } from '../../shared/errors.js';
import { currentJob } from './watchdog.js';

/** The engine's one error type: every failure an operator can meet is one of these. */
export class LifeboatError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly problems?: ErrorShape['problems'];

  constructor(code: ErrorCode, message: string, hint: string, problems?: ErrorShape['problems']) {
    super(message);
    this.name = 'LifeboatError';
    this.code = code;
    this.hint = hint;
    this.problems = problems;
  }

  toShape(): ErrorShape {
    return { code: this.code, message: this.message, hint: this.hint, ...(this.problems ? { problems: this.problems } : {}) };
  }
}

/** Turns anything thrown into the error shape; an unexpected error keeps its message but never a stack. */
export function toErrorShape(err: unknown): ErrorShape {
  if (err instanceof LifeboatError) return err.toShape();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: `Unexpected error: ${message}`, hint: 'Nothing was sealed. Run the command again; if it repeats, report it with the activity log.' };
}

export function exitClassOf(err: unknown) {
  return errorClass(toErrorShape(err).code);
}

/** Maps a Node filesystem error on `path` to an operator-facing error, or returns undefined. */
export function fsError(err: unknown, path: string, writing: boolean): LifeboatError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new LifeboatError('DISK_FULL', `Disk full while writing ${path}.`, 'Free space on that disk (or prune old sets) and run the backup again; nothing was sealed.');
    case 'EACCES':
    case 'EPERM':
      return writing
        ? new LifeboatError('LOCATION_UNWRITABLE', `No permission to write ${path}.`, 'Give the user running Lifeboat write permission on the backup location, or choose another location.')
        : new LifeboatError('SOURCE_UNREADABLE', `No permission to read ${path}.`, 'Give the user running Lifeboat read permission on it, or exclude it from the source.');
    case 'ENOENT':
      return writing ? undefined : new LifeboatError('SOURCE_MISSING', `${path} does not exist.`, 'Check the path in the environment, or restore the missing data first.');
    case 'EROFS':
      return new LifeboatError('LOCATION_UNWRITABLE', `${path} is on a read-only filesystem.`, 'Choose a backup location on a writable disk.');
    default:
      return undefined;
  }
}

/** The error an abort signal turns into: STALLED when the job's watchdog stopped it, else CANCELLED. */
export function cancelled(): LifeboatError {
  const stall = currentJob()?.stall;
  if (stall instanceof LifeboatError) return stall;
  return new LifeboatError('CANCELLED', 'The operation was cancelled.', 'Nothing was sealed and the partial work was removed; start it again when ready.');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}
