import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { PostgresSource, Source } from '../../../../shared/environment.js';
import type { Artifact, PgDumpDetails } from '../../../../shared/manifest.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import { count } from '../../../../shared/format.js';
import { timedCheck } from '../../checks.js';
import { LifeboatError } from '../../errors.js';
import {
  clientError,
  clientVersion,
  connectionOf,
  countTables,
  describeConnection,
  finishClient,
  maintenance,
  majorOf,
  psql,
  requireAtLeast,
  scratchConnectionOf,
  serverVersion,
  startClient,
  type PgConnection,
} from './postgres-client.js';
import { SnapshotSession } from './postgres-snapshot.js';
import type { CaptureContext, CheckContext, SourceEstimate, SourcePlugin } from '../common/types.js';

type Counted = { name: string; rows: number };

/**
 * Before anything is written: pg_dump and pg_restore are installed and at least the server's major
 * version, the password can be found, the server answers and lets the user into the database.
 * The estimate is the database's size on the server (the dump is usually much smaller).
 */
async function inspect(source: PostgresSource, signal: AbortSignal): Promise<SourceEstimate> {
  const c = connectionOf(source);
  const dumpVer = await clientVersion(c, 'pg_dump', signal);
  const restoreVer = await clientVersion(c, 'pg_restore', signal);
  await clientVersion(c, 'psql', signal);
  const server = await serverVersion(c, signal);
  requireAtLeast(c, 'pg_dump', dumpVer, majorOf(server), `the server (PostgreSQL ${server})`);
  requireAtLeast(c, 'pg_restore', restoreVer, majorOf(server), `the server (PostgreSQL ${server})`);
  const size = Number(await psql(c, 'SELECT pg_database_size(current_database());', { signal, what: `Measuring ${describeConnection(c)}` }));
  return { bytes: Number.isFinite(size) ? size : 0, files: 1 };
}

/**
 * Counts every table's rows inside a repeatable-read transaction, then runs `pg_dump -Fc` on that
 * transaction's exported snapshot, streaming its output through hashing into `<name>.dump`
 * (custom format, already compressed). The counts and the dump are one point in time.
 */
async function capture(ctx: CaptureContext<PostgresSource>): Promise<Artifact[]> {
  const { source, writer, signal, progress } = ctx;
  const c = connectionOf(source);
  progress.setPhase('snapshot', source.name);
  const pgDumpVersion = await clientVersion(c, 'pg_dump', signal);
  const server = await serverVersion(c, signal);
  requireAtLeast(c, 'pg_dump', pgDumpVersion, majorOf(server), `the server (PostgreSQL ${server})`);
  const session = await SnapshotSession.open(c, signal);
  let tables: Counted[];
  let written;
  const file = `${source.name}.dump`;
  try {
    const snapshot = await session.begin();
    tables = await session.countTables();
    progress.setPhase('pg_dump', source.name);
    const what = `Dumping ${describeConnection(c)}`;
    const dump = await startClient(c, 'pg_dump', { args: ['--format=custom', `--snapshot=${snapshot}`, '--dbname', c.database], signal });
    try {
      written = await writer.write(file, dump.stdout, { compression: 'none', signal, onRawBytes: (n) => progress.addBytes(n) });
    } finally {
      await finishClient(c, 'pg_dump', dump, what);
    }
    await session.close();
  } catch (err) {
    session.abandon();
    throw err;
  }
  if (written.stored.size === 0) throw new LifeboatError('SOURCE_READ_FAILED', `pg_dump wrote nothing for ${describeConnection(c)}.`, 'Run pg_dump by hand to see why; nothing was sealed.');
  progress.addFiles(1);
  const details: PgDumpDetails = { type: 'pg-dump', database: c.database, serverVersion: server, pgDumpVersion, tables };
  return [{ source: source.name, kind: 'postgres', ...written.stored, details }];
}

/** The pg-dump artifact of a source's artifacts. */
export function dumpOf(artifacts: Artifact[]): (Artifact & { details: PgDumpDetails }) | undefined {
  return artifacts.find((a): a is Artifact & { details: PgDumpDetails } => a.details.type === 'pg-dump');
}

/** `pg_restore --list`: the tables whose data the dump holds (`TABLE DATA schema name owner`). */
export async function listDumpTables(c: PgConnection, file: string, signal: AbortSignal): Promise<{ tables: Set<string>; entries: number }> {
  const run = await startClient(c, 'pg_restore', { args: ['--list', file], signal });
  const tables = new Set<string>();
  let entries = 0;
  for await (const line of createInterface({ input: run.stdout, crlfDelay: Infinity })) {
    if (!/^\d+;/.test(line)) continue;
    entries++;
    const m = /^\d+; \d+ \d+ TABLE DATA (\S+) (.+) \S+$/.exec(line);
    if (m) tables.add(`${m[1]}.${m[2]}`);
  }
  await finishClient(c, 'pg_restore', run, `Listing ${path.basename(file)}`);
  return { tables, entries };
}

/** `public.accounts` from `COPY public.accounts (id, name) FROM stdin;`, with quoted names unquoted. */
function copyTarget(line: string): string | undefined {
  const ident = '("(?:[^"]|"")*"|[^\\s".]+)';
  const m = new RegExp(`^COPY ${ident}\\.${ident} (?:\\(|FROM stdin;)`).exec(line);
  const un = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replaceAll('""', '"') : s);
  return m ? `${un(m[1]!)}.${un(m[2]!)}` : undefined;
}

/**
 * Counts the rows the dump itself holds, table by table, by streaming its data section as SQL
 * (`pg_restore --data-only -f -`): in COPY's text format every row is one line.
 */
export async function countDumpRows(c: PgConnection, file: string, signal: AbortSignal, onBytes: (n: number) => void): Promise<Map<string, number>> {
  const run = await startClient(c, 'pg_restore', { args: ['--data-only', '--file=-', file], signal });
  const counts = new Map<string, number>();
  let current: string | undefined;
  for await (const line of createInterface({ input: run.stdout, crlfDelay: Infinity })) {
    onBytes(line.length + 1);
    if (current === undefined) {
      current = line.startsWith('COPY ') ? copyTarget(line) : undefined;
      if (current !== undefined) counts.set(current, 0);
    } else if (line === '\\.') current = undefined;
    else counts.set(current, counts.get(current)! + 1);
  }
  await finishClient(c, 'pg_restore', run, `Reading the data of ${path.basename(file)}`);
  return counts;
}

/** Compares counts with the recorded ones; throws naming the first differences. */
export function compareCounts(recorded: Counted[], now: Map<string, number>): string {
  const missing = recorded.filter((t) => !now.has(t.name)).map((t) => t.name);
  if (missing.length) throw new Error(`no table ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
  const wrong = recorded.filter((t) => now.get(t.name) !== t.rows).map((t) => `${t.name}: ${now.get(t.name)} rows, recorded ${t.rows}`);
  if (wrong.length) throw new Error(wrong.slice(0, 10).join('; '));
  return `${count(
    recorded.reduce((n, t) => n + t.rows, 0),
    'row',
  )} in ${count(recorded.length, 'table')}`;
}

/**
 * The drill's part: pg_restore (at least the dump's version) lists the dump and every recorded
 * table; the dump's data holds each table's recorded rows; and where the source allows a scratch
 * database, the dump is restored into `lifeboat_drill_<id>` in one transaction, counted, dropped.
 */
async function check(ctx: CheckContext): Promise<DrillCheck[]> {
  const checks: DrillCheck[] = [];
  const artifact = dumpOf(ctx.artifacts);
  if (!artifact) return checks;
  // pg_restore seeks in a custom-format archive, so it is given a file, not a stream.
  const file = await ctx.reader.fileFor(artifact, path.join(ctx.scratch, artifact.file), { signal: ctx.signal });
  const recorded = ctx.config?.kind === 'postgres' ? ctx.config : undefined;
  const c: PgConnection = recorded ? connectionOf(recorded) : { source: ctx.source, port: 5432, user: '', database: artifact.details.database, connectTimeoutSeconds: 10, timeoutSeconds: 3600 };
  const dumpMajor = majorOf(artifact.details.pgDumpVersion);
  const readable = await timedCheck(checks, artifact.file, 'pg_restore can read this dump', async () => {
    const ver = await clientVersion(c, 'pg_restore', ctx.signal);
    requireAtLeast(c, 'pg_restore', ver, dumpMajor, `the pg_dump that made this dump`);
    return `${ver}; the dump was made by ${artifact.details.pgDumpVersion}`;
  });
  if (!readable) return checks;
  ctx.progress.setPhase('pg_restore --list', ctx.source);
  const listed = await timedCheck(checks, artifact.file, 'pg_restore --list reads every recorded table', async () => {
    const { tables, entries } = await listDumpTables(c, file, ctx.signal);
    const absent = artifact.details.tables.filter((t) => !tables.has(t.name)).map((t) => t.name);
    if (absent.length) throw new Error(`the dump has no data entry for ${absent.join(', ')}`);
    return `${count(entries, 'entry', 'entries')} in the table of contents, ${count(artifact.details.tables.length, 'table')} with data`;
  });
  if (!listed) return checks;
  ctx.progress.setPhase('count rows', ctx.source);
  await timedCheck(checks, artifact.file, 'rows in the dump as recorded', async () =>
    compareCounts(artifact.details.tables, await countDumpRows(c, file, ctx.signal, (n) => ctx.progress.addBytes(n))),
  );
  if (recorded?.scratch) await scratchRestore(ctx, recorded, artifact, file, checks);
  return checks;
}

/** The drill's test restore into a scratch database that exists only for the check. */
async function scratchRestore(ctx: CheckContext, source: PostgresSource, artifact: Artifact & { details: PgDumpDetails }, file: string, checks: DrillCheck[]): Promise<void> {
  const name = `lifeboat_drill_${randomBytes(6).toString('hex')}`;
  const c = scratchConnectionOf(source, source.scratch!, name);
  ctx.progress.setPhase('test restore', ctx.source);
  let created = false;
  try {
    await timedCheck(checks, artifact.file, 'test restore into a scratch database', async () => {
      await maintenance(c, 'CREATE DATABASE :"db";', { signal: ctx.signal, what: `Creating the scratch database ${name}`, vars: { db: name } });
      created = true;
      await restoreDump(c, file, { clean: false, keepOwners: false, signal: ctx.signal });
      return `restored in one transaction into ${describeConnection(c)}`;
    });
    if (checks.at(-1)?.status !== 'PASS') return;
    await timedCheck(checks, artifact.file, 'scratch database has the recorded rows', async () =>
      compareCounts(artifact.details.tables, new Map((await countTables(c, ctx.signal)).map((t) => [t.name, t.rows]))),
    );
  } finally {
    if (created) {
      await timedCheck(checks, artifact.file, 'scratch database dropped', async () => {
        await maintenance(c, 'DROP DATABASE IF EXISTS :"db";', { signal: new AbortController().signal, what: `Dropping the scratch database ${name}`, vars: { db: name } });
        return `${name} dropped`;
      });
    }
  }
}

/**
 * `pg_restore --single-transaction` into the connection's database: every object or none.
 * `clean` drops the dump's objects first (`--clean --if-exists`); without `keepOwners` objects
 * belong to the restoring user (`--no-owner --no-acl`), as a scratch or test database needs.
 */
export async function restoreDump(c: PgConnection, file: string, opts: { clean: boolean; keepOwners: boolean; signal: AbortSignal }): Promise<void> {
  const args = ['--single-transaction', '--exit-on-error', ...(opts.clean ? ['--clean', '--if-exists'] : []), ...(opts.keepOwners ? [] : ['--no-owner', '--no-acl']), '--dbname', c.database, file];
  const run = await startClient(c, 'pg_restore', { args, signal: opts.signal });
  run.stdout.resume();
  const what = `Restoring ${path.basename(file)} into ${describeConnection(c)}`;
  const exit = await run.exit.catch(() => undefined);
  if (!exit) await finishClient(c, 'pg_restore', run, what); // could not be started: says which program is missing
  if (!exit || exit.code === 0) return;
  // A statement of the dump failed (connection problems are told apart by clientError).
  if (!exit.timedOut && !exit.aborted && /could not execute query|while PROCESSING TOC|error returned by PQputCopyData/i.test(exit.stderr)) {
    const lines = exit.stderr
      .split('\n')
      .filter((l) => /error|ERROR|DETAIL|Command was/.test(l))
      .slice(0, 4)
      .join(' ')
      .replace(/\s+/g, ' ')
      .slice(0, 700);
    throw new LifeboatError(
      'RESTORE_FAILED',
      `pg_restore stopped with an error, and as it ran in one transaction nothing of the dump was applied to ${describeConnection(c)}: ${lines}`,
      'Fix what the error names on the server (a missing role or extension, an object that depends on a table) and restore again, or restore another set.',
    );
  }
  throw clientError(c, what, exit, 'pg_restore');
}

/** The recorded configuration of a postgres source, if `source` is one. */
export function asPostgres(source: Source | undefined): PostgresSource | undefined {
  return source?.kind === 'postgres' ? source : undefined;
}

export const postgresPlugin: SourcePlugin<PostgresSource> = { kind: 'postgres', inspect, capture, check };
