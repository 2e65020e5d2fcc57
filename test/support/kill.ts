import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './tools.js';

/** A CLI run in the background, to be stalled or killed: its stderr so far, and whether it ended. */
export interface Running {
  child: ChildProcess;
  stderr(): string;
  /** Set once the process has closed: its exit code, or null when a signal ended it. */
  exit(): { code: number | null } | undefined;
  closed: Promise<void>;
}

/** Starts `lifeboat ARGS` on its own LIFEBOAT_HOME; `stallAt` freezes it at that fault point. */
export function startCli(args: string[], home: string, stallAt?: string): Running {
  const env: NodeJS.ProcessEnv = { ...process.env, LIFEBOAT_HOME: home };
  delete env.LIFEBOAT_TEST_STALL;
  if (stallAt) env.LIFEBOAT_TEST_STALL = stallAt;
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let ended: { code: number | null } | undefined;
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<void>((resolve) =>
    child.once('close', (code) => {
      ended = { code };
      resolve();
    }),
  );
  return { child, stderr: () => err, exit: () => ended, closed };
}

/** Polls `test` until it holds; fails naming `what` after `ms` (a bound against hangs, not a timing). */
export async function until(what: string, test: () => boolean, ms = 180_000, every = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Waits until the run says it stalled at `point` (or fails, with its stderr, if it ended first). */
export async function untilStalled(run: Running, point: string): Promise<void> {
  await until(`the run to stall at ${point}`, () => {
    if (run.exit()) throw new Error(`the run ended (exit ${run.exit()!.code}) before reaching ${point}: ${run.stderr()}`);
    return run.stderr().includes(`stalled at ${point}`);
  });
}

/** `kill -9`, and waits until the process is gone (at once if it had already ended). */
export async function kill9(run: Running): Promise<void> {
  if (!run.exit()) run.child.kill('SIGKILL');
  await run.closed;
}
