import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { CLI, jsonOf, requireBinary, runCli, useTempDirs, writeEnvFile, type CliResult } from '../support/tools.js';

/**
 * SIGTERM (a service manager, `timeout`, `kill`) ends any command the way Ctrl-C does, and
 * `env import` bounds what it reads before reading it.
 */

const tempDir = useTempDirs();

/** A CLI child whose output is collected; `until` resolves once stderr matches. */
function startCli(args: string[], home: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LIFEBOAT_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

/**
 * Waits for the child to end, at most `seconds`; one that does not is killed and reported (a
 * bound on a hang, not a measure of speed).
 */
async function ended(run: ReturnType<typeof startCli>, seconds: number, what: string): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), seconds * 1000)));
  const r = await Promise.race([run.done, hung]);
  clearTimeout(timer);
  if (r === 'hung') {
    run.child.kill('SIGKILL');
    throw new Error(`${what}: still running after ${seconds} s\n${run.stderr()}`);
  }
  return r;
}

async function imported(root: string, env: unknown): Promise<string> {
  const home = path.join(root, 'home');
  const r = await runCli(['env', 'import', writeEnvFile(root, env)], home);
  expect(r.code, r.stderr).toBe(0);
  return home;
}

describe('SIGTERM', () => {
  it('during a backup cancels it like Ctrl-C: CANCELLED, exit 1, no set or partial folder left, an activity entry', async () => {
    const root = tempDir();
    makeLiveData(root);
    const started = path.join(root, 'dump-started');
    const env = demoEnvironment(root);
    env.sources = [...env.sources, { kind: 'command', name: 'slow', dump: { argv: ['sh', '-c', `touch '${started}'; exec sleep 300`] }, restore: { argv: ['true'] } }];
    const home = await imported(root, env);
    const run = startCli(['backup', '--env', 'prod', '--json'], home);
    await expect.poll(() => existsSync(started), { timeout: 180_000, interval: 100 }).toBe(true);
    run.child.kill('SIGTERM');
    const r = await ended(run, 60, 'backup after SIGTERM');
    expect(r.code, r.stderr).toBe(1);
    expect(jsonOf<{ error: { code: string } }>(r).error.code).toBe('CANCELLED');
    expect(readdirSync(env.location).filter((n) => !n.startsWith('.lifeboat-'))).toEqual([]);
    const activity = jsonOf<{ action: string; outcome: string }[]>(await runCli(['activity', '--env', 'prod', '--json'], home));
    expect(activity[0]).toMatchObject({ action: 'backup', outcome: 'cancelled' });
  });

  it('ends a run whose work does not stop: CANCELLED once the engine gives up on it, ended by the signal (143), and the next backup cleans up', async () => {
    const root = tempDir();
    makeLiveData(root);
    const env = demoEnvironment(root);
    const home = await imported(root, env);
    // The fault point freezes the run after its artifacts are written, deaf to the cancel.
    const run = startCli(['backup', '--env', 'prod', '--json'], home, { LIFEBOAT_TEST_STALL: 'backup:artifacts-written' });
    await expect.poll(() => run.stderr(), { timeout: 180_000, interval: 100 }).toContain('stalled at backup:artifacts-written');
    run.child.kill('SIGTERM');
    const r = await ended(run, 60, 'a stalled backup after SIGTERM');
    // The engine gives up on work deaf to the cancel 5 s after it, and the command then ends by
    // the signal: a thread blocked in a read would keep a normal exit waiting for ever.
    expect(r.code ?? r.signal, r.stderr).toSatisfy((c: unknown) => c === 143 || c === 'SIGTERM');
    const { error } = jsonOf<{ error: { code: string; message: string; hint: string } }>(r);
    expect(error.code).toBe('CANCELLED');
    expect(error.message).toContain('stopped waiting');
    expect(error.hint).toContain('next run');

    const next = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(next.code, next.stderr).toBe(0);
    const sealed = jsonOf<{ id: string; cleaned: string[] }>(next);
    expect(sealed.cleaned.filter((c) => c.includes('of an interrupted backup'))).toHaveLength(1);
    expect(readdirSync(env.location).filter((n) => !n.startsWith('.lifeboat-'))).toEqual([sealed.id]);
  });
});

describe('env import bounds its input before reading it', () => {
  it('a FIFO is refused at once (it used to wait for a writer for ever), exit 2', async () => {
    const root = tempDir();
    const fifo = path.join(root, 'env.json');
    spawnSync(requireBinary('mkfifo', 'coreutils'), [fifo]);
    const r = await ended(startCli(['env', 'import', fifo, '--json'], path.join(root, 'home')), 60, 'env import of a FIFO');
    expect(r.code, r.stderr).toBe(2);
    const { error } = jsonOf<{ error: { code: string; message: string; hint: string } }>(r);
    expect(error).toMatchObject({ code: 'BAD_ARGUMENT', message: `${fifo} is a named pipe (FIFO), not an environment file.` });
    expect(error.hint).toContain('save it to a file first');
  });

  it('/dev/zero and a folder are refused without reading them, exit 2', async () => {
    const root = tempDir();
    for (const [file, kind] of [
      ['/dev/zero', 'a device'],
      [root, 'a folder'],
    ] as const) {
      const r = await ended(startCli(['env', 'import', file], path.join(root, 'home')), 60, `env import ${file}`);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`Error: ${file} is ${kind}, not an environment file.`);
    }
  });

  it('a file over 1 MiB is refused as TOO_LARGE, even when it is valid JSON; nothing is imported', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'live'));
    const file = path.join(root, 'env.json');
    writeFileSync(file, `${JSON.stringify(demoEnvironment(root))}${' '.repeat(2 << 20)}`);
    const home = path.join(root, 'home');
    const r = await runCli(['env', 'import', file, '--json'], home);
    expect(r.code, r.stderr).toBe(2);
    expect(jsonOf<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'TOO_LARGE' });
    expect(jsonOf<unknown[]>(await runCli(['env', 'list', '--json'], home))).toEqual([]);
  });
});
