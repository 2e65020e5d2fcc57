import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { requireBinary } from './tools.js';

/** The superuser the test servers are made with, and its password (password auth on the socket). */
export const PG_USER = 'lifeboat';
export const PG_PASSWORD = 'drill-me-not';
/** The variable the tests' environments name in `passwordEnv`. */
export const PG_PASSWORD_ENV = 'LIFEBOAT_TEST_PGPASSWORD';

export interface TestServer {
  /** The folder that holds the server's socket: a source's `host`. */
  socketDir: string;
  port: number;
  /** Server major version, e.g. 15. */
  major: number;
  /** Runs SQL with psql as the superuser against `database`; returns the unaligned, tuples-only output. */
  sql(database: string, sql: string): string;
  /** A new empty database, named uniquely for the test. */
  createDatabase(prefix?: string): string;
  /** Server log, for a failing test's message. */
  log(): string;
}

/** The newest server installed from Debian's packages: /usr/lib/postgresql/<major>/bin. */
function serverBinDir(): { dir: string; major: number } {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .map(Number)
        .filter((n) => Number.isInteger(n) && existsSync(path.join(root, String(n), 'bin', 'pg_ctl')))
    : [];
  if (!majors.length) throw new Error('This test needs a PostgreSQL server: install the Debian package postgresql (apt-get install postgresql).');
  const major = Math.max(...majors);
  return { dir: path.join(root, String(major), 'bin'), major };
}

/** An unprivileged account to run the server as: PostgreSQL refuses to run as root. */
function serverAccount(): { uid: number; gid: number; name: string } {
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (r.status === 0) return { name, uid: Number(r.stdout.trim()), gid: Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim()) };
  }
  throw new Error('No unprivileged account (postgres or nobody) to run the test server as.');
}

/** Runs a server binary as the unprivileged account (setpriv, from util-linux). */
function asServer(account: { uid: number; gid: number }, bin: string, args: string[]): string {
  requireBinary('setpriv', 'util-linux');
  const r = spawnSync('setpriv', [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--clear-groups', '--', bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * A real PostgreSQL server for one test file: `initdb` into a temporary folder as an unprivileged
 * account, started on a socket in that folder only (`listen_addresses = ''`), every connection
 * authenticated by password, and stopped (and its folder removed) after the file's tests, whether
 * they passed or not.
 */
export function usePostgres(): () => TestServer {
  let server: TestServer | undefined;
  let stop: (() => void) | undefined;
  beforeAll(() => {
    requireBinary('psql', 'postgresql-client');
    const { dir: bin, major } = serverBinDir();
    const account = serverAccount();
    const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-pg-'));
    chmodSync(root, 0o755);
    const data = path.join(root, 'data');
    const socketDir = path.join(root, 'socket');
    for (const d of [data, socketDir]) {
      execFileSync('mkdir', ['-m', '0700', d]);
      chownSync(d, account.uid, account.gid);
    }
    chmodSync(socketDir, 0o755);
    const pwfile = path.join(root, 'pwfile');
    writeFileSync(pwfile, `${PG_PASSWORD}\n`, { mode: 0o600 });
    chownSync(pwfile, account.uid, account.gid);
    asServer(account, path.join(bin, 'initdb'), ['-D', data, '-U', PG_USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync']);
    rmSync(pwfile);
    appendFileSync(
      path.join(data, 'postgresql.conf'),
      `\nlisten_addresses = ''\nunix_socket_directories = '${socketDir}'\nport = 5432\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 30\nshared_buffers = 16MB\n`,
    );
    const logFile = path.join(root, 'server.log');
    writeFileSync(logFile, '');
    chownSync(logFile, account.uid, account.gid);
    stop = () => {
      spawnSync('setpriv', [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--clear-groups', '--', path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], { timeout: 30_000 });
      rmSync(root, { recursive: true, force: true });
    };
    process.once('exit', () => stop?.());
    asServer(account, path.join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
    let made = 0;
    const sql = (database: string, text: string) =>
      execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', '5432', '-U', PG_USER, '-d', database, '-c', text], {
        encoding: 'utf8',
        env: { ...process.env, PGPASSWORD: PG_PASSWORD, PGCONNECT_TIMEOUT: '10' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    server = {
      socketDir,
      port: 5432,
      major,
      sql,
      createDatabase: (prefix = 'app') => {
        const name = `${prefix}_${process.pid}_${++made}`;
        sql('postgres', `CREATE DATABASE ${name}`);
        return name;
      },
      log: () => readFileSync(logFile, 'utf8'),
    };
  });
  afterAll(() => {
    stop?.();
    stop = undefined;
  });
  return () => {
    if (!server) throw new Error('the PostgreSQL test server did not start');
    return server;
  };
}
