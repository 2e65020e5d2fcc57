import { execFileSync, spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach } from 'vitest';

/** The repository root, for starting the CLI as an operator would. */
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const CLI = path.join(ROOT, 'bin', 'lifeboat.js');

/** Fails (never skips) when a binary the test needs is missing, naming the Debian package. */
export function requireBinary(name: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`This test needs the \`${name}\` command: install the Debian package ${debianPackage} (apt-get install ${debianPackage}).`);
  return found.stdout.trim();
}

/** A fresh temporary folder per test, removed after it. */
export function useTempDirs(): (prefix?: string) => string {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) {
      spawnSync('chmod', ['-R', 'u+rwx', d]);
      rmSync(d, { recursive: true, force: true });
    }
  });
  return (prefix = 'lifeboat-test-') => {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(d);
    return d;
  };
}

/** Runs the `sqlite3` command on a database file and returns its output, trimmed. */
export function sqlite3(db: string, sql: string): string {
  requireBinary('sqlite3', 'sqlite3');
  return execFileSync('sqlite3', ['-cmd', '.timeout 10000', db, sql], { encoding: 'utf8' }).trim();
}

/** `sha256sum FILE` through the system command. */
export function sha256sum(file: string): string {
  requireBinary('sha256sum', 'coreutils');
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]!;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `lifeboat ARGS` in a child process with its own LIFEBOAT_HOME. */
export function runCli(args: string[], home: string, extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return outputOf(spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LIFEBOAT_HOME: home, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Collects a child's stdout and stderr until it closes, with how it ended. */
export function outputOf(child: ChildProcessByStdio<null, Readable, Readable>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Parses the one JSON document a `--json` command prints, with the output in the error if it is not. */
export function jsonOf<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`expected one JSON document on stdout (exit ${r.code}).\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Writes an environment file and returns its path. */
export function writeEnvFile(dir: string, env: unknown, name = 'env.json'): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(env, null, 2));
  return file;
}

/** `gunzip -c GZ > OUT` through the system command, streaming to the file. */
export function gunzipTo(gz: string, out: string): void {
  requireBinary('gunzip', 'gzip');
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync('gunzip', ['-c', gz], { stdio: ['ignore', fd, 'pipe'] });
    if (r.status !== 0) throw new Error(`gunzip -c ${gz} failed: ${r.stderr.toString()}`);
  } finally {
    closeSync(fd);
  }
}

/** Awaits a promise that must reject, and returns the LifeboatError's code, message and hint, so an assertion names all three. */
export async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; hint: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; message: string; hint?: string };
    return { code: e.code ?? 'none', message: e.message, hint: e.hint ?? '' };
  }
  throw new Error('expected a rejection');
}
