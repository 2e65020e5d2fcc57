import { type ErrorCode, type ErrorShape } from '../../shared/errors.js';
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

/** A path as a message shows it: a very long one cut, with its length, so the message stays readable. */
export function shownPath(p: string): string {
  return p.length <= 160 ? p : `${p.slice(0, 120)}… (${p.length} characters)`;
}

/** Maps a Node filesystem error on `path` to an operator-facing error, or returns undefined. */
export function fsError(err: unknown, fullPath: string, writing: boolean): LifeboatError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const path = shownPath(fullPath);
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
    case 'ENOTDIR':
      return writing
        ? new LifeboatError(
            'LOCATION_UNWRITABLE',
            `A part of ${path} is a file, not a folder, so nothing can be written there.`,
            'Choose a backup location whose folders are folders (or move the file that is in the way).',
          )
        : new LifeboatError('SOURCE_MISSING', `${path} does not exist: a part of it is a file, not a folder.`, 'Check the path in the environment, or restore the missing data first.');
    case 'ELOOP':
      return new LifeboatError(
        writing ? 'LOCATION_UNWRITABLE' : 'SOURCE_UNREADABLE',
        `${path} leads round a loop of symbolic links (ELOOP): it names no file or folder.`,
        'Point the environment at the real file or folder, or fix the link (ls -l shows where each one leads).',
      );
    case 'EROFS':
      return new LifeboatError('LOCATION_UNWRITABLE', `${path} is on a read-only filesystem.`, 'Choose a backup location on a writable disk.');
    case 'ENAMETOOLONG':
      return new LifeboatError(
        'PATH_TOO_LONG',
        `${path} is too long for the filesystem.`,
        'A path can be at most 4095 bytes and each name in it 255: correct the path in the environment (or shorten the names inside the folder).',
      );
    case 'ERR_INVALID_ARG_VALUE':
    case 'ERR_INVALID_ARG_TYPE':
      if (!/null bytes/.test((err as Error).message)) return undefined;
      return new LifeboatError('BAD_PATH', `${JSON.stringify(path).slice(1, -1)} contains a NUL byte (\\0), which no file name can hold.`, 'Correct the path in the environment and import it again.');
    case 'EIO':
      return new LifeboatError(
        writing ? 'WRITE_FAILED' : 'SOURCE_READ_FAILED',
        `${writing ? 'Writing' : 'Reading'} ${path} failed with an input/output error (EIO).`,
        /^\/(proc|sys|dev)(\/|$)/.test(fullPath)
          ? `${path} is not a file on a disk but a view the kernel makes (under /${fullPath.split('/')[1]}); point the environment at the real file or folder.`
          : "The disk may be failing or was disconnected: check it (dmesg shows the kernel's messages), then try again.",
      );
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
