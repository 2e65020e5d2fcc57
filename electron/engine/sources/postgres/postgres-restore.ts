import type { PostgresSource } from '../../../../shared/environment.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import type { InUse, SourcePreview } from '../../../../shared/restore.js';
import { timedCheck } from '../../checks.js';
import { LifeboatError } from '../../errors.js';
import { clientVersion, connectionOf, countTables, databaseExists, describeConnection, maintenance, majorOf, requireAtLeast, serverVersion, type PgConnection } from './postgres-client.js';
import { compareCounts, dumpOf, restoreDump } from './postgres.js';
import type { ApplyRestore, RestoreContext, RestoreDestination, SavedData } from '../common/types.js';

type Ctx = RestoreContext<PostgresSource>;

/** The database a restore writes into: the live one, or the restore test's new database. */
function databaseOf(source: PostgresSource, destination: RestoreDestination | null | undefined): string {
  if (!destination) return source.database;
  if (!destination.database) {
    throw new LifeboatError(
      'BAD_ARGUMENT',
      `Source "${source.name}" is a PostgreSQL database, and this restore test names only a folder.`,
      'Name a new database for it too (on the command line: --to-database NAME); it is created on the same server, and the live database is not touched.',
    );
  }
  return destination.database;
}

const connOf = (ctx: Ctx) => connectionOf(ctx.source, databaseOf(ctx.source, ctx.destination));

function dumpIn(ctx: Ctx) {
  const artifact = dumpOf(ctx.artifacts);
  if (!artifact) throw new LifeboatError('NOT_A_SET', `The set records no dump for source "${ctx.source.name}".`, 'The manifest is incomplete; use another set.');
  return artifact;
}

/** Tables and row counts in the target database now against the dump's; a database that does not exist has none. */
async function preview(ctx: Ctx): Promise<SourcePreview> {
  const c = connOf(ctx);
  const { details } = dumpIn(ctx);
  const exists = await databaseExists(c, c.database, ctx.signal);
  const now = new Map(exists ? (await countTables(c, ctx.signal)).map((t) => [t.name, t.rows]) : []);
  const inSet = new Map(details.tables.map((t) => [t.name, t.rows]));
  const names = [...new Set([...now.keys(), ...inSet.keys()])].sort();
  return { type: 'tables', source: ctx.source.name, target: ctx.target, targetExists: exists, tables: names.map((name) => ({ name, now: now.get(name) ?? null, inSet: inSet.get(name) ?? null })) };
}

/** Other sessions connected to the live database, from pg_stat_activity, named so the operator can close them. */
async function inUse(source: PostgresSource): Promise<InUse> {
  const c = connectionOf(source);
  const sql = `SELECT coalesce(json_agg(format('%s from %s (%s, pid %s, %s)', coalesce(usename, 'a user'), coalesce(host(client_addr), 'the local socket'),
    coalesce(nullif(application_name, ''), 'no application name'), pid, coalesce(state, 'state hidden')) ORDER BY pid), '[]')
    FROM pg_stat_activity WHERE datname = :'db' AND pid <> pg_backend_pid();`;
  const holders = JSON.parse(await maintenance(c, sql, { signal: new AbortController().signal, what: `Listing the sessions of ${describeConnection(c)}`, vars: { db: c.database } })) as string[];
  if (holders.length) return { status: 'busy', holders: holders.map((h) => `session ${h}`) };
  return { status: 'free', how: `no other session is connected to ${describeConnection(c)} (pg_stat_activity)` };
}

/** A restore test's database must not exist yet: the restore creates it, and never writes into one that is there. */
async function destinationCheck(ctx: Ctx): Promise<DrillCheck> {
  const checks: DrillCheck[] = [];
  const c = connOf(ctx);
  await timedCheck(checks, ctx.target, 'new database name is free', async () => {
    if (await databaseExists(c, c.database, ctx.signal)) throw new Error(`${describeConnection(c)} already exists; name a database that does not exist yet`);
    return `${c.database} will be created on ${c.host ?? 'the local socket'}:${c.port}`;
  });
  return checks[0]!;
}

/**
 * Restores the dump with `pg_restore --single-transaction`: every object or none. Over the live
 * database it first drops the dump's objects (`--clean --if-exists`) and keeps their owners and
 * grants; a database that does not exist yet, or a restore test's, is created first (owned by
 * the restoring user, as are its objects) and dropped again if the restore fails.
 */
async function apply(ctx: Ctx): Promise<DrillCheck[]> {
  const c = connOf(ctx);
  const artifact = dumpIn(ctx);
  const started = performance.now();
  const created = !(await databaseExists(c, c.database, ctx.signal));
  if (created) await maintenance(c, 'CREATE DATABASE :"db";', { signal: ctx.signal, what: `Creating ${describeConnection(c)}`, vars: { db: c.database } });
  try {
    await restoreDump(c, await ctx.reader.fileFor(artifact, undefined, { signal: ctx.signal }), { clean: !created, keepOwners: !ctx.destination, signal: ctx.signal });
  } catch (err) {
    if (created) await dropDatabase(c).catch(() => undefined);
    throw err;
  }
  return [
    {
      target: ctx.target,
      name: 'pg_restore in one transaction',
      status: 'PASS',
      reason: `${artifact.file} applied${created ? ` to the new ${describeConnection(c)}` : ''}`,
      durationMs: performance.now() - started,
    },
  ];
}

function dropDatabase(c: PgConnection): Promise<string> {
  return maintenance(c, 'DROP DATABASE IF EXISTS :"db";', { signal: new AbortController().signal, what: `Dropping ${describeConnection(c)}`, vars: { db: c.database } });
}

/** Puts the safety set's dump back in one transaction, or drops the database the restore created. */
async function undo(ctx: Ctx, before: SavedData | null): Promise<void> {
  const c = connOf(ctx);
  const dump = before && dumpOf(before.artifacts);
  if (!dump) {
    await dropDatabase(c);
    return;
  }
  await restoreDump(c, await before.reader.fileFor(dump, undefined, { signal: ctx.signal }), { clean: true, keepOwners: true, signal: ctx.signal });
}

/** The database after the restore: every table of the dump is there with the dump's rows. */
async function verify(ctx: Ctx): Promise<DrillCheck[]> {
  const checks: DrillCheck[] = [];
  const c = connOf(ctx);
  const { details } = dumpIn(ctx);
  await timedCheck(checks, ctx.target, 'tables and rows as recorded', async () => {
    const now = await countTables(c, ctx.signal);
    const extra = now.filter((t) => !details.tables.some((d) => d.name === t.name)).map((t) => t.name);
    const same = compareCounts(details.tables, new Map(now.map((t) => [t.name, t.rows])));
    return `${same}${extra.length ? `; ${extra.length} tables that are not in the dump were left as they were (${extra.slice(0, 5).join(', ')})` : ''}`;
  });
  return checks;
}

/** pg_restore is installed and at least as new as the pg_dump that made the dump and as the target server. */
async function programsReady(ctx: Ctx): Promise<string> {
  const c = connOf(ctx);
  const { details } = dumpIn(ctx);
  const version = await clientVersion(c, 'pg_restore', ctx.signal);
  requireAtLeast(c, 'pg_restore', version, majorOf(details.pgDumpVersion), 'the pg_dump that made this dump');
  const server = await serverVersion({ ...c, database: 'postgres' }, ctx.signal).catch(() => serverVersion({ ...c, database: 'template1' }, ctx.signal));
  requireAtLeast(c, 'pg_restore', version, majorOf(server), `the server (PostgreSQL ${server})`);
  return `${version}; the dump was made by ${details.pgDumpVersion}, the server is PostgreSQL ${server}`;
}

export const postgresRestore: ApplyRestore<PostgresSource> = {
  method: 'apply',
  atomic: true,
  target: (source, destination) => describeConnection(connectionOf(source, databaseOf(source, destination))),
  exists: (ctx) => databaseExists(connOf(ctx), connOf(ctx).database, ctx.signal),
  preview,
  inUse,
  destinationCheck,
  programsReady,
  apply,
  undo,
  verify,
};
