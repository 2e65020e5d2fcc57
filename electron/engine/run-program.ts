import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { holdWatch } from './watchdog.js';

export interface ProgramOptions {
  /** The program and its arguments: run directly, never through a shell. */
  argv: string[];
  cwd?: string;
  /** The whole environment the program sees. */
  env: NodeJS.ProcessEnv;
  /** Stopped (SIGTERM, then SIGKILL 5 s later) after this long. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Fed to its standard input; without it the input is closed (/dev/null), so nothing can wait on a prompt. */
  stdin?: Readable;
}

export interface ProgramExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The last few kilobytes of its standard error, for the message an operator sees. */
  stderr: string;
}

export interface RunningProgram {
  child: ChildProcess;
  stdout: Readable;
  /** Settles when the program has exited; rejects only when it could not be started (ENOENT, EACCES). */
  exit: Promise<ProgramExit>;
}

const STDERR_KEEP = 8 * 1024;

/**
 * Starts a program in its own process group with no terminal, so that neither it nor anything it
 * starts can prompt for a password: it reads /dev/null or the given stream. On timeout or abort
 * the whole group is stopped. While it runs, its own time limit governs, not the job's watchdog:
 * pg_dump waiting on a lock or a test restore building indexes may be silent for long.
 */
export function startProgram(opts: ProgramOptions): RunningProgram {
  const [file, ...args] = opts.argv;
  const child = spawn(file!, args, { cwd: opts.cwd, env: opts.env, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true, windowsHide: true });
  const release = holdWatch();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-STDERR_KEEP);
  });
  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    signalGroup(child, 'SIGTERM');
    killTimer ??= setTimeout(() => signalGroup(child, 'SIGKILL'), 5000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, opts.timeoutMs);
  const onAbort = () => {
    aborted = true;
    stop();
  };
  opts.signal.addEventListener('abort', onAbort, { once: true });
  if (opts.signal.aborted) onAbort();
  if (opts.stdin && child.stdin) {
    // A program that exits without reading all its input closes the pipe: that is its exit's story, not ours.
    pipeline(opts.stdin, child.stdin).catch(() => undefined);
  }
  const exit = (async () => {
    try {
      const [code, sig] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
      return { code, signal: sig, timedOut, aborted, stderr: stderr.trim() };
    } finally {
      release();
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal.removeEventListener('abort', onAbort);
    }
  })();
  // `once` rejects on 'error' (the program could not be started); the caller awaits `exit`.
  exit.catch(() => undefined);
  return { child, stdout: child.stdout!, exit };
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}

/**
 * Runs a program to its end and returns its standard output with its exit. At most `maxOutput`
 * bytes are kept; `truncated` says when there was more, so no caller reads a cut answer as whole.
 */
export async function runProgram(opts: ProgramOptions & { maxOutput?: number }): Promise<ProgramExit & { stdout: string; truncated: boolean }> {
  const running = startProgram(opts);
  const max = opts.maxOutput ?? 16 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let kept = 0;
  running.stdout.on('data', (d: Buffer) => {
    if (kept < max) chunks.push(d.subarray(0, max - kept));
    kept += d.length;
  });
  const exit = await running.exit;
  return { ...exit, stdout: Buffer.concat(chunks).toString('utf8'), truncated: kept > max };
}

/** A short description of how a program ended, e.g. "exited with status 2" or "was stopped after 30 s". */
export function describeExit(exit: ProgramExit, timeoutMs: number): string {
  if (exit.timedOut) return `was stopped after ${Math.round(timeoutMs / 1000)} s (its time limit)`;
  if (exit.aborted) return 'was stopped because the operation was cancelled';
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with status ${exit.code}`;
}
