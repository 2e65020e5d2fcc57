import Database from 'better-sqlite3';
import { promises as fs } from 'node:fs';
import type { SqliteSource } from '../../../../shared/environment.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import type { InUse, SourcePreview } from '../../../../shared/restore.js';
import { cancelled, fsError, LifeboatError } from '../../errors.js';
import { openFilesUnder } from '../../in-use.js';
import { expandSnapshot, proveDatabase, snapshotOf, tableCounts } from './sqlite.js';
import path from 'node:path';
import { destinationFolder } from '../common/destination.js';
import { Accounts, aimAt, folderOwner, give, identity, ownerOf, placedOf, changesOf, type Aim, type Identity, type Placed } from '../common/ownership.js';
import { proveOwners } from '../common/owner-checks.js';
import type { RestoreContext, Staged, SwapRestore } from '../common/types.js';

const companions = (target: string) => [`${target}-wal`, `${target}-shm`, `${target}-journal`];

function snapshotIn(ctx: RestoreContext<SqliteSource>) {
  const artifact = snapshotOf(ctx.artifacts);
  if (!artifact) throw new LifeboatError('NOT_A_SET', `The set records no database for source "${ctx.source.name}".`, 'The manifest is incomplete; use another set.');
  return artifact;
}

/** Tables and row counts now (read-only) against the set; a missing or unreadable target has none. */
async function preview(ctx: RestoreContext<SqliteSource>): Promise<SourcePreview> {
  const { details } = snapshotIn(ctx);
  const exists = await fs.stat(ctx.target).then(
    (s) => s.isFile(),
    () => false,
  );
  let now = new Map<string, number>();
  if (exists) {
    try {
      const db = new Database(ctx.target, { readonly: true, fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        now = new Map(tableCounts(db).map((t) => [t.name, t.rows]));
      } finally {
        db.close();
      }
    } catch {
      now = new Map(); // not a readable database: everything in the set is new to it
    }
  }
  const inSet = new Map(details.tables.map((t) => [t.name, t.rows]));
  const names = [...new Set([...now.keys(), ...inSet.keys()])].sort();
  const [accounts, id] = [await Accounts.load(), identity()];
  const aim = await databaseAim(ctx, accounts, id);
  return {
    type: 'tables',
    source: ctx.source.name,
    target: ctx.target,
    targetExists: exists,
    tables: names.map((name) => ({ name, now: now.get(name) ?? null, inSet: inSet.get(name) ?? null })),
    ownership: changesOf([{ abs: ctx.target, aim }], accounts, id),
  };
}

/** The mode a restore gave a database before sets recorded one: what the decompressor writes. */
const UNRECORDED_MODE = 0o600;

/**
 * The owner and mode the restored database gets: over the live data the live file's (followed
 * through a link: the file it names is the one the application opens), else the recorded ones
 * or its folder's owner; a restore test keeps the recorded mode and changes no owner.
 */
async function databaseAim(ctx: RestoreContext<SqliteSource>, accounts: Accounts, id: Identity): Promise<Aim> {
  const inPlace = !ctx.destination;
  const live = inPlace ? await fs.stat(ctx.target).catch(() => undefined) : undefined;
  const recorded = snapshotIn(ctx).details.file ?? { mode: UNRECORDED_MODE };
  const folder = inPlace ? await folderOwner(ctx.target) : { uid: id.uid, gid: id.gid };
  return aimAt({ rel: '', type: 'file', ...(live ? { live: { type: live.isFile() ? 'file' : 'other', owner: ownerOf(live) } } : {}), recorded, folder, inPlace }, accounts, id);
}

/**
 * After the swap SQLite may have made a -wal or -shm (the verification opens the database):
 * each companion there gets the database's owner, group and mode, so the application can open it.
 */
async function companionsLike(target: string, db: Placed, id: Identity): Promise<{ abs: string; placed: Placed }[]> {
  const out = [];
  for (const abs of companions(target)) {
    if (
      !(await fs.lstat(abs).then(
        (st) => st.isFile(),
        () => false,
      ))
    )
      continue;
    const aim: Aim = { rel: path.basename(abs), type: 'file', want: db.want, tries: [db.want, db.got, { uid: id.uid, gid: db.want.gid }], masked: 0, live: db.got, inSet: null };
    out.push({ abs, placed: placedOf(aim, await give(abs, aim)) });
  }
  return out;
}

/**
 * Another process with the database, its -wal or -shm open is found through /proc; a read lock
 * probe catches a writer that /proc cannot show (another user's process, another machine). The
 * exclusive lock itself is taken by `stage`'s caller just before the swap.
 */
async function inUse(_source: SqliteSource, target: string): Promise<InUse> {
  const exists = await fs.stat(target).then(
    () => true,
    () => false,
  );
  if (!exists) return { status: 'free', how: 'there is no database at the target yet' };
  const open = await openFilesUnder([target, ...companions(target)], false);
  if (open.holders.length) return { status: 'busy', holders: open.holders };
  const probe = lockProbe(target);
  if (probe) return { status: 'busy', holders: [probe] };
  if (!open.supported) return { status: 'unknown', reason: 'this platform cannot list the processes that have the database open; no process holds a write lock on it now' };
  if (open.hidden) return { status: 'unknown', reason: `no process of yours has it open, but ${open.hidden} processes of other users could not be inspected; no process holds a write lock on it now` };
  return { status: 'free', how: 'no other process has the database, its -wal or -shm open, and no write is in progress' };
}

/** A description of the lock holder when a read cannot start right now, else undefined. */
function lockProbe(target: string): string | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(target, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 0');
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') ? 'a process writing to the database (it holds its lock)' : undefined;
  } finally {
    db?.close();
  }
}

/** Takes and releases an exclusive lock on the live database: refused while anything holds it. */
export function assertExclusive(target: string): void {
  let db: Database.Database | undefined;
  try {
    db = new Database(target, { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new LifeboatError(
        'IN_USE',
        `${target} is in use: another connection holds a lock on it.`,
        'Stop the application that uses the database, then restore again. Your live data was not changed.',
      );
    }
    if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw err;
  } finally {
    db?.close();
  }
}

/** Decompresses the snapshot to `staged`, proves it before anything live is touched, and gives it its owner and mode. */
async function stage(ctx: RestoreContext<SqliteSource> & { staged: string }): Promise<Staged> {
  const artifact = snapshotIn(ctx);
  const checks: DrillCheck[] = [];
  const cleanup = () => Promise.all([ctx.staged, ...companions(ctx.staged)].map((f) => fs.rm(f, { force: true })));
  try {
    ctx.progress.setPhase('stage', ctx.source.name);
    const expanded = await expandSnapshot(ctx.reader, artifact, ctx.staged, checks, ctx.signal, (n) => ctx.progress.addBytes(n));
    if (!expanded) {
      const cause = checks.find((c) => c.status === 'FAIL')?.reason ?? '';
      // The decompressor's own errors carry the path and errno; a full disk is the one to name.
      if (/ENOSPC|no space/i.test(cause)) throw diskFull(ctx.staged, artifact.details.rawSize);
      throw new LifeboatError(
        'STAGE_FAILED',
        `The database of source "${ctx.source.name}" could not be staged: ${cause}.`,
        'Run a drill on this set; if it fails, restore another set. Your live data was not changed.',
      );
    }
    if (!(await proveDatabase(ctx.staged, artifact.details, checks, artifact.file, { readonly: false }))) {
      const cause = checks
        .filter((c) => c.status === 'FAIL')
        .map((c) => `${c.name}: ${c.reason}`)
        .join('; ');
      throw new LifeboatError('STAGE_FAILED', `The staged copy of source "${ctx.source.name}" is not the recorded database: ${cause}.`, 'Restore another set. Your live data was not changed.');
    }
    await Promise.all(companions(ctx.staged).map((f) => fs.rm(f, { force: true })));
    if (ctx.signal.aborted) throw cancelled();
    const [accounts, id] = [await Accounts.load(), identity()];
    const aim = await databaseAim(ctx, accounts, id);
    const placed = placedOf(aim, await give(ctx.staged, aim));
    return { checks, owners: { inPlace: !ctx.destination, uid: id.uid, placed: [placed] } };
  } catch (err) {
    await cleanup();
    if (ctx.signal.aborted) throw cancelled();
    if (err instanceof LifeboatError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw diskFull(ctx.staged, artifact.details.rawSize);
    throw fsError(err, ctx.staged, true) ?? err;
  }
}

function diskFull(at: string, need: number): LifeboatError {
  return new LifeboatError(
    'DISK_FULL',
    `Disk full at ${at}: staging the database needs ${need} bytes.`,
    'Free that much space on the disk that holds the database, then restore again. Your live data was not changed.',
  );
}

/**
 * The live database after the swap: opens, passes integrity_check, has the set's tables and rows;
 * then it and any -wal, -shm or -journal beside it have the owner and mode staging gave it.
 */
async function verify(ctx: RestoreContext<SqliteSource>): Promise<DrillCheck[]> {
  const artifact = snapshotIn(ctx);
  const checks: DrillCheck[] = [];
  await proveDatabase(ctx.target, artifact.details, checks, ctx.target, { readonly: true });
  const plan = ctx.owners;
  const db = plan?.placed[0];
  if (plan && db) {
    const paths = [{ abs: ctx.target, placed: db }, ...(plan.inPlace ? await companionsLike(ctx.target, db, identity()) : [])];
    await proveOwners(checks, ctx.target, plan, paths, await Accounts.load());
  }
  return checks;
}

export const sqliteRestore: SwapRestore<SqliteSource> = {
  method: 'swap',
  /** A restore test keeps the database's file name: `<folder>/<source>/<file>`. */
  target: (source, destination) => (destination ? path.join(destinationFolder(source, destination), path.basename(source.path)) : source.path),
  exists: (ctx) =>
    fs.stat(ctx.target).then(
      () => true,
      () => false,
    ),
  preview,
  inUse,
  stagedBytes: (artifacts) => snapshotOf(artifacts)?.details.rawSize ?? 0,
  companions,
  stage,
  beforeSwap: async (target) => {
    if (
      await fs.stat(target).then(
        () => true,
        () => false,
      )
    )
      assertExclusive(target);
  },
  verify,
};
