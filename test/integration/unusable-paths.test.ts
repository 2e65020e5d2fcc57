import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesPlugin } from '../../electron/engine/sources/files/files.js';
import { sqlitePlugin } from '../../electron/engine/sources/sqlite/sqlite.js';
import { FilesSource, SqliteSource } from '../../shared/environment.js';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { failure, jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

/**
 * Paths and globs no filesystem can hold, or that are not files at all, once answered
 * "INTERNAL: Unexpected error". Each now gets a code, a field path where it came from a file, and
 * a hint.
 */

const tempDir = useTempDirs();

type Problems = { error: { code: string; hint: string; problems: { path: string; message: string }[] } };

/** Imports `env` through the CLI and returns the refusal, after checking it is a BAD_ENVIRONMENT with exit 2. */
async function refusedImport(root: string, env: unknown): Promise<Problems['error']> {
  const r = await runCli(['env', 'import', writeEnvFile(root, env), '--json'], path.join(root, 'home'));
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(2);
  const { error } = jsonOf<Problems>(r);
  expect(error.code).toBe('BAD_ENVIRONMENT');
  expect(error.hint).toContain('nothing was saved');
  expect(r.stderr).not.toContain('Unexpected error');
  return error;
}

describe('env import refuses paths no file can have, naming each field', () => {
  it('a NUL byte in a source path and in the location, and a whitespace-only path: every one at once', async () => {
    const root = tempDir();
    const env = demoEnvironment(root, { location: path.join(root, 'se\u0000ts') });
    env.sources = [
      { kind: 'sqlite', name: 'db', path: path.join(root, 'live', 'shop\u0000.db') },
      { kind: 'files', name: 'assets', path: '   ' },
    ];
    const error = await refusedImport(root, env);
    const byPath = Object.fromEntries(error.problems.map((p) => [p.path, p.message]));
    expect(Object.keys(byPath).sort()).toEqual(['location', 'sources[0].path', 'sources[1].path']);
    expect(byPath.location).toContain('NUL byte');
    expect(byPath['sources[0].path']).toContain('NUL byte');
    expect(byPath['sources[1].path']).toContain('only spaces');
  });

  it('a source path and a location of 100,000 characters', async () => {
    const root = tempDir();
    const long = `/${'a'.repeat(100_000)}`;
    const env = demoEnvironment(root, { location: long });
    env.sources = [{ kind: 'files', name: 'assets', path: long }];
    const error = await refusedImport(root, env);
    expect(error.problems.map((p) => p.path).sort()).toEqual(['location', 'sources[0].path']);
    for (const p of error.problems) expect(p.message).toContain('at most 4095 bytes');
    // The refusal names the length, not the path itself.
    expect(JSON.stringify(error).length).toBeLessThan(2000);
  });

  it('an absolute include glob (/etc/**) says what to write instead', async () => {
    const root = tempDir();
    const env = demoEnvironment(root);
    env.sources = [{ kind: 'files', name: 'assets', path: path.join(root, 'live', 'assets'), include: ['/etc/**'], exclude: ['~$*'] }];
    const error = await refusedImport(root, env);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.path).toBe('sources[0].include[0]');
    expect(error.problems[0]!.message).toContain('"etc/**"');
  });
});

describe('sources at paths that cannot be read as files', () => {
  it('/proc/self/mem as a database: SOURCE_READ_FAILED, exit 1, a hint about /proc, no set', async () => {
    const root = tempDir();
    makeLiveData(root);
    const home = path.join(root, 'home');
    const env = demoEnvironment(root);
    env.sources = [{ kind: 'sqlite', name: 'db', path: '/proc/self/mem' }];
    expect((await runCli(['env', 'import', writeEnvFile(root, env)], home)).code).toBe(0);
    const r = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(r.code, r.stderr).toBe(1);
    const { error } = jsonOf<{ error: { code: string; message: string; hint: string } }>(r);
    expect(error.code).toBe('SOURCE_READ_FAILED');
    expect(error.message).toContain('/proc/self/mem');
    expect(error.hint).toContain('/proc');
    mkdirSync(env.location, { recursive: true });
    const list = jsonOf<unknown[]>(await runCli(['list', '--env', 'prod', '--json'], home));
    expect(list).toEqual([]);
  });

  it('a NUL byte or 100,000 characters reaching a source anyway (an environment saved before these checks)', async () => {
    const signal = new AbortController().signal;
    const nul = await failure(filesPlugin.inspect(FilesSource.parse({ kind: 'files', name: 'a', path: '/srv/a\u0000b' }), signal));
    expect(nul.code).toBe('BAD_PATH');
    const long = await failure(sqlitePlugin.inspect(SqliteSource.parse({ kind: 'sqlite', name: 'db', path: `/${'a'.repeat(100_000)}` }), signal));
    expect(long.code).toBe('PATH_TOO_LONG');
    expect(long.message).toContain('(100001 characters)');
    expect(long.message.length).toBeLessThan(400);
    expect(long.hint).toContain('4095 bytes');
  });
});
