import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterEach } from 'vitest';

/** A path whose reader waits for ever, until the test lets go. */
export interface StallingPipe {
  /** Settles once a reader has opened the pipe: from then on its read waits for bytes that never come. */
  reading: Promise<void>;
  /** Ends the wait (the reader gets `data`, then the end of the file), so no thread is left blocked after the test. */
  release(data?: string): void;
}

/**
 * Named pipes that nobody writes, as a stand-in for a disk or a network share that stopped answering:
 * opening one for reading blocks, as a read on a hung mount does. `reading` is how a test knows the
 * run is stuck there (a writer that opens without blocking succeeds only while a reader has it open);
 * the writer then stays open and silent, so the reader keeps waiting in `read` until `release`.
 */
export function useStallingPipes(): (file: string) => StallingPipe {
  const made: StallingPipe[] = [];
  afterEach(() => {
    for (const p of made.splice(0)) p.release();
  });
  return (file) => {
    execFileSync('mkfifo', ['-m', '600', file]);
    let fd: number | null = null;
    let released = false;
    let poll: NodeJS.Timeout | undefined;
    const tryOpen = (): boolean => {
      try {
        fd = openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
        return false;
      }
    };
    const reading = new Promise<void>((resolve, reject) => {
      poll = setInterval(() => {
        try {
          if (released) return clearInterval(poll);
          if (tryOpen()) {
            clearInterval(poll);
            resolve();
          }
        } catch (err) {
          clearInterval(poll);
          reject(err);
        }
      }, 20);
    });
    const pipe: StallingPipe = {
      reading,
      release(data) {
        if (released) return;
        released = true;
        clearInterval(poll);
        if (fd === null) tryOpen();
        if (fd !== null) {
          if (data) writeSync(fd, data);
          closeSync(fd);
        }
        fd = null;
      },
    };
    made.push(pipe);
    return pipe;
  };
}
