import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { PostgresScratch, PostgresSource } from '../../../../shared/environment.js';
import { cancelled, LifeboatError } from '../../errors.js';
import { describeExit, runProgram, startProgram, type ProgramExit, type RunningProgram } from '../../run-program.js';

/** One server connection as PostgreSQL's client programs take it; the password is only ever in the child's environment. */
export interface PgConnection {
  /** The source's name, for messages. */
  source: string;
  host?: string;
  port: number;
  user: string;
  database: string;
  passwordEnv?: string;
  passfile?: string;
  binDir?: string;
  connectTimeoutSeconds: number;
  timeoutSeconds: number;
}

/** The connection of a source, to its own database or to another one on the same server. */
export function connectionOf(source: PostgresSource, database = source.database): PgConnection {
  const { host, port, user, passwordEnv, passfile, binDir, connectTimeoutSeconds, timeoutSeconds } = source;
  return { source: source.name, host, port, user, database, passwordEnv, passfile, binDir, connectTimeoutSeconds, timeoutSeconds };
}

/** The drill's scratch server: the source's own settings, with the scratch's fields in their place. */
export function scratchConnectionOf(source: PostgresSource, scratch: PostgresScratch, database: string): PgConnection {
  const own = connectionOf(source, database);
  const password = scratch.passwordEnv || scratch.passfile ? { passwordEnv: scratch.passwordEnv, passfile: scratch.passfile } : {};
  return { ...own, ...(scratch.host ? { host: scratch.host } : {}), ...(scratch.port ? { port: scratch.port } : {}), ...(scratch.user ? { user: scratch.user } : {}), ...password };
}

/** `database "ledger" on /run/postgresql:5432`: how a target is shown to the operator. */
export function describeConnection(c: PgConnection): string {
  return `database "${c.database}" on ${c.host ?? 'the local socket'}:${c.port}`;
}

/** The program's path: in `binDir` when the source names one, else found on PATH. */
function program(c: PgConnection, name: 'pg_dump' | 'pg_restore' | 'psql'): string {
  return c.binDir ? path.join(c.binDir, name) : name;
}

/**
 * The environment a client program runs with: libpq's variables for this connection, a connect
 * timeout, English messages (they are matched below), and the password from where the source says.
 */
async function clientEnv(c: PgConnection): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env, PGPORT: String(c.port), PGUSER: c.user, PGCONNECT_TIMEOUT: String(c.connectTimeoutSeconds), PGAPPNAME: 'lifeboat', LC_MESSAGES: 'C', LANGUAGE: 'C' };
  if (c.host) env.PGHOST = c.host;
  else delete env.PGHOST;
  if (c.passwordEnv) {
    const value = process.env[c.passwordEnv];
    if (value === undefined) {
      throw new LifeboatError(
        'PASSWORD_MISSING',
        `Source "${c.source}" reads its password from the environment variable ${c.passwordEnv}, which is not set.`,
        `Set ${c.passwordEnv} in the environment Lifeboat runs in (for a timer: its unit's Environment= or EnvironmentFile=), or use a passfile instead.`,
      );
    }
    env.PGPASSWORD = value;
  }
  if (c.passfile) {
    const st = await fs.stat(c.passfile).catch(() => undefined);
    if (!st?.isFile())
      throw new LifeboatError(
        'PASSWORD_MISSING',
        `The passfile ${c.passfile} of source "${c.source}" does not exist.`,
        'Create it with one line host:port:database:user:password and chmod 600, or correct the path.',
      );
    if (st.mode & 0o077) {
      // libpq ignores such a file with only a warning, and the connection then fails as if no password were given.
      throw new LifeboatError(
        'PASSWORD_MISSING',
        `The passfile ${c.passfile} of source "${c.source}" can be read by other users (mode ${(st.mode & 0o777).toString(8)}), so PostgreSQL's programs ignore it.`,
        `Run: chmod 600 ${c.passfile}`,
      );
    }
    await fs.access(c.passfile, constants.R_OK).catch(() => {
      throw new LifeboatError(
        'PASSWORD_MISSING',
        `The passfile ${c.passfile} of source "${c.source}" cannot be read by the user running Lifeboat.`,
        'Make that user its owner (chown), keeping mode 600.',
      );
    });
    env.PGPASSFILE = c.passfile;
    delete env.PGPASSWORD;
  }
  return env;
}

const clientHint = (name: string) => `Install the Debian package postgresql-client (apt-get install postgresql-client), or set "binDir" of the source to the folder that holds ${name}.`;

/** Turns a client program's failure into what the operator should do; `what` says what was being done. */
export function clientError(c: PgConnection, what: string, exit: ProgramExit, name: string): LifeboatError {
  const err = exit.stderr;
  const where = describeConnection(c);
  const first = err
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, 6)
    .join(' ')
    .replace(/\s+/g, ' ')
    .slice(0, 600);
  if (exit.aborted) return cancelled();
  if (exit.timedOut) {
    return new LifeboatError(
      'TIMED_OUT',
      `${what} (${where}) took longer than ${c.timeoutSeconds} s and was stopped.`,
      `Raise "timeoutSeconds" of source "${c.source}" if the database is this large, or find what blocks it (a long lock on a table). Nothing was changed.`,
    );
  }
  if (/password authentication failed|no password supplied|authentication failed for user|Peer authentication failed|role "[^"]*" does not exist|no pg_hba\.conf entry/i.test(err)) {
    return new LifeboatError(
      'AUTH_FAILED',
      `${where} refused user "${c.user}": ${first}`,
      `Check the user and the password of source "${c.source}" (${c.passwordEnv ? `the variable ${c.passwordEnv}` : c.passfile ? `the passfile ${c.passfile}` : 'no password is configured: set passwordEnv or passfile'}), and that pg_hba.conf lets this user in.`,
    );
  }
  // The server answered: what it refused comes before the generic "connection … failed" below.
  if (/database "[^"]*" does not exist/i.test(err)) {
    return new LifeboatError('SOURCE_MISSING', `${where} does not exist.`, `Check the database name of source "${c.source}", or create the database first.`);
  }
  if (/timeout expired/i.test(err)) {
    return new LifeboatError(
      'UNREACHABLE',
      `${where} did not answer within ${c.connectTimeoutSeconds} s: ${first}`,
      'Check that the server is running and reachable from this machine (host, port, firewall), then try again.',
    );
  }
  if (
    /could not connect|connection to server .* failed|Connection refused|No such file or directory|could not translate host name|Network is unreachable|server closed the connection unexpectedly/i.test(
      err,
    )
  ) {
    return new LifeboatError(
      'UNREACHABLE',
      `${where} cannot be reached: ${first}`,
      `Check that the server is running, and the host ("${c.host ?? 'default socket'}") and port (${c.port}) of source "${c.source}".`,
    );
  }
  if (/server version mismatch|unsupported version .* in file header/i.test(err)) {
    return new LifeboatError('TOOL_TOO_OLD', `${name} is too old for ${where}: ${first}`, clientHint(name));
  }
  if (/permission denied/i.test(err)) {
    return new LifeboatError(
      'SOURCE_UNREADABLE',
      `${what} (${where}) was refused: ${first}`,
      `Grant user "${c.user}" the privileges it needs (for a backup: SELECT on every table), or use a user that has them.`,
    );
  }
  return new LifeboatError(
    'SOURCE_READ_FAILED',
    `${what} (${where}) failed: ${name} ${describeExit(exit, c.timeoutSeconds * 1000)}${first ? `: ${first}` : ''}.`,
    'Read the message above; nothing was changed.',
  );
}

function missing(c: PgConnection, name: string, err: unknown): LifeboatError {
  const code = (err as NodeJS.ErrnoException).code;
  const where = c.binDir ? `in ${c.binDir}` : 'on the PATH';
  return new LifeboatError('TOOL_MISSING', `${name} was not found ${where} (${code ?? String(err)}); source "${c.source}" needs it.`, clientHint(name));
}

export interface ClientRun {
  args: string[];
  signal: AbortSignal;
  stdin?: Readable;
}

/** Starts a client program for this connection, never prompting for a password (`-w`); `finishClient` awaits it. */
export async function startClient(c: PgConnection, name: 'pg_dump' | 'pg_restore' | 'psql', run: ClientRun): Promise<RunningProgram> {
  const env = await clientEnv(c);
  return startProgram({ argv: [program(c, name), '-w', ...run.args], env, timeoutMs: c.timeoutSeconds * 1000, signal: run.signal, stdin: run.stdin });
}

/** Awaits a started client program; throws the operator-facing error when it failed. */
export async function finishClient(c: PgConnection, name: string, running: RunningProgram, what: string): Promise<ProgramExit> {
  let exit: ProgramExit;
  try {
    exit = await running.exit;
  } catch (err) {
    throw missing(c, name, err);
  }
  if (exit.code !== 0) throw clientError(c, what, exit, name);
  return exit;
}

/**
 * Runs SQL through psql on its standard input, so psql quotes the `vars` (`:'name'` as a
 * literal, `:"name"` as an identifier); returns the unaligned, tuples-only output.
 */
export async function psql(c: PgConnection, sql: string, opts: { signal: AbortSignal; what: string; vars?: Record<string, string> }): Promise<string> {
  const env = await clientEnv(c);
  const vars = Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ['-v', `${k}=${v}`]);
  let result;
  try {
    result = await runProgram({
      argv: [program(c, 'psql'), '-w', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...vars, '-d', c.database, '-f', '-'],
      env,
      timeoutMs: c.timeoutSeconds * 1000,
      signal: opts.signal,
      stdin: Readable.from([sql]),
    });
  } catch (err) {
    throw missing(c, 'psql', err);
  }
  if (result.code !== 0) throw clientError(c, opts.what, result, 'psql');
  if (result.truncated) {
    throw new LifeboatError(
      'COMMAND_FAILED',
      `${opts.what} (${describeConnection(c)}): psql answered with more than Lifeboat reads (16 MB), so the answer was not trusted.`,
      'Report this with the activity log; a database with this many tables needs a larger limit.',
    );
  }
  return result.stdout.trim();
}

/** The major version in `pg_dump (PostgreSQL) 15.13 (Debian …)` or a server's `15.13`; 9.6 counts as 9.6. */
export function majorOf(version: string): number {
  const m = /(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) return NaN;
  const major = Number(m[1]);
  return major >= 10 ? major : Number(`${m[1]}.${m[2] ?? 0}`);
}

/** `pg_dump --version` (or pg_restore's), failing with TOOL_MISSING when it is not installed. */
export async function clientVersion(c: PgConnection, name: 'pg_dump' | 'pg_restore' | 'psql', signal: AbortSignal): Promise<string> {
  let result;
  try {
    result = await runProgram({ argv: [program(c, name), '--version'], env: { ...process.env, LC_MESSAGES: 'C' }, timeoutMs: 30_000, signal });
  } catch (err) {
    throw missing(c, name, err);
  }
  if (result.code !== 0) throw missing(c, name, new Error(`${name} --version ${describeExit(result, 30_000)}: ${result.stderr}`));
  return result.stdout.trim();
}

/** Refuses a client program whose major version is below the server's (or the dump's): pgAdmin and DBeaver users meet this most. */
export function requireAtLeast(c: PgConnection, name: string, clientVer: string, needMajor: number, of: string): void {
  const have = majorOf(clientVer);
  if (!(have >= needMajor)) {
    throw new LifeboatError(
      'TOOL_TOO_OLD',
      `${name} is version ${have} (${clientVer}), older than ${of} (${needMajor}); it cannot read it reliably.`,
      `Install ${name} ${needMajor} or newer: the Debian package postgresql-client-${needMajor} (from apt.postgresql.org when Debian has no such version), then set "binDir" of source "${c.source}" to /usr/lib/postgresql/${needMajor}/bin.`,
    );
  }
}

/** The server's version (`SHOW server_version`), proving on the way that it answers and lets the user in. */
export async function serverVersion(c: PgConnection, signal: AbortSignal): Promise<string> {
  return psql(c, 'SHOW server_version;', { signal, what: `Connecting to ${describeConnection(c)}` });
}

/**
 * One SQL statement that counts the rows of every ordinary table (`ONLY`: not its inheritance
 * children, which are counted on their own), as JSON `[{ name: "schema.table", rows }]`.
 */
export const COUNT_TABLES_SQL = `SELECT coalesce(json_agg(json_build_object('name', n.nspname || '.' || c.relname, 'rows',
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint)
  ORDER BY n.nspname, c.relname), '[]')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

/** Every table of the connection's database with its row count now. */
export async function countTables(c: PgConnection, signal: AbortSignal): Promise<{ name: string; rows: number }[]> {
  const out = await psql(c, `${COUNT_TABLES_SQL};`, { signal, what: `Counting the rows of ${describeConnection(c)}` });
  return JSON.parse(out) as { name: string; rows: number }[];
}

/** Whether a database of that name exists on the connection's server (asked of its maintenance database). */
export async function databaseExists(c: PgConnection, name: string, signal: AbortSignal): Promise<boolean> {
  const out = await maintenance(c, "SELECT count(*) FROM pg_database WHERE datname = :'db';", { signal, what: `Looking for database "${name}"`, vars: { db: name } });
  return out === '1';
}

/** Runs SQL on the server's maintenance database (`postgres`, or `template1` where that is missing): creating and dropping databases. */
export async function maintenance(c: PgConnection, sql: string, opts: { signal: AbortSignal; what: string; vars?: Record<string, string> }): Promise<string> {
  try {
    return await psql({ ...c, database: 'postgres' }, sql, opts);
  } catch (err) {
    if (err instanceof LifeboatError && err.code === 'SOURCE_MISSING') return psql({ ...c, database: 'template1' }, sql, opts);
    throw err;
  }
}
