import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { CLI } from './tools.js';

/** A `lifeboat serve` child process, as an operator would start it. */
export interface ServedHost {
  /** The printed address, with its one-time token. */
  url: string;
  /** `http://127.0.0.1:PORT`, for fetch and for the expected Origin. */
  origin: string;
  port: number;
  token: string;
  /** Its LIFEBOAT_HOME. */
  home: string;
  /** The child's process id, to signal it as a terminal or a service manager would. */
  pid: number;
  /** Everything it printed so far (stdout and stderr), for a failing test's message. */
  logs(): string;
  /** Resolves with its exit code once it has exited, however it was stopped. */
  exited: Promise<number | null>;
  /** Stops it with SIGTERM (SIGKILL after 10 s) and resolves with its exit code. */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  /** Its LIFEBOAT_HOME; a fresh temporary folder (removed on stop) when absent. */
  home?: string;
  env?: Record<string, string>;
  /** More arguments for `lifeboat serve`, e.g. `--no-schedule`. */
  args?: string[];
}

/** Starts `node bin/lifeboat.js serve --port 0` and resolves once it has printed its address. */
export function startServe(options: ServeOptions = {}): Promise<ServedHost> {
  const ownHome = options.home === undefined;
  const home = options.home ?? mkdtempSync(path.join(os.tmpdir(), 'lifeboat-serve-'));
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...(options.args ?? [])], {
    env: { ...process.env, LIFEBOAT_HOME: home, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (ownHome) rmSync(home, { recursive: true, force: true });
    return child.exitCode;
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error('lifeboat serve printed no address within 60 s')), 60_000);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`${err.message}\n--- its output ---\n${output}`)));
    };
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]+))/.exec(output);
      if (!m || settled) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(m[2]);
      resolve({ url: m[1]!, origin: `http://127.0.0.1:${port}`, port, token: m[3]!, home, pid: child.pid!, exited, logs: () => output, stop });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', fail);
    void exited.then((code) => fail(new Error(`lifeboat serve exited (${code}) before printing its address`)));
  });
}

/** A `lifeboat serve` per call, each stopped after the test (its output kept for the failure message). */
export function useServedHosts(): (options?: ServeOptions) => Promise<ServedHost> {
  const started: ServedHost[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((h) => h.stop()));
  });
  return async (options) => {
    const host = await startServe(options);
    started.push(host);
    return host;
  };
}
