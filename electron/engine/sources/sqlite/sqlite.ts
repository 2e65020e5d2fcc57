import Database from 'better-sqlite3';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { SqliteSource } from '../../../../shared/environment.js';
import type { Artifact } from '../../../../shared/manifest.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import { cancelled, fsError, LifeboatError } from '../../errors.js';
import type { ArtifactReader } from '../../codec/index.js';
import { timedCheck } from '../../checks.js';
import { count } from '../../../../shared/format.js';
import { Accounts } from '../common/ownership.js';
import type { CaptureContext, CheckContext, SourcePlugin } from '../common/types.js';

const HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Quotes an identifier for SQL: double quotes, inner quotes doubled. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Ordinary tables (not SQLite's own, not virtual ones whose module may be missing) with their row counts. */
export function tableCounts(db: Database.Database): { name: string; rows: number }[] {
  const names = db
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name`)
    .pluck()
    .all() as string[];
  return names.map((name) => ({
    name,
    rows: Number(
      db
        .prepare(`SELECT count(*) FROM ${ident(name)}`)
        .pluck()
        .get(),
    ),
  }));
}

async function inspect(source: SqliteSource): Promise<{ bytes: number; files: number }> {
  let stat;
  try {
    stat = await fs.stat(source.path);
  } catch (err) {
    throw fsError(err, source.path, false) ?? err;
  }
  if (!stat.isFile()) {
    throw new LifeboatError('SOURCE_NOT_SQLITE', `${source.path} is not a file, so it cannot be a SQLite database.`, `Point source "${source.name}" at the database file itself (e.g. data/app.db).`);
  }
  const head = Buffer.alloc(16);
  try {
    const fh = await fs.open(source.path, 'r');
    try {
      await fh.read(head, 0, 16, 0);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw fsError(err, source.path, false) ?? err;
  }
  if (!head.equals(HEADER)) {
    throw new LifeboatError(
      'SOURCE_NOT_SQLITE',
      `${source.path} is not a SQLite database (its first bytes are not "SQLite format 3").`,
      `Check the path of source "${source.name}"; if this file is an asset, back it up with a "files" source instead.`,
    );
  }
  const wal = await fs.stat(`${source.path}-wal`).catch(() => undefined);
  return { bytes: stat.size + (wal?.size ?? 0), files: 1 };
}

/**
 * Takes a consistent snapshot through SQLite's online backup API (the rows that live only in the
 * `-wal` file are in it), records its tables and row counts, and streams it gzip-compressed into
 * the set. The live file is opened read-only and never checkpointed.
 */
async function capture(ctx: CaptureContext<SqliteSource>): Promise<Artifact[]> {
  const { source, writer, scratch, signal, progress } = ctx;
  const snapshot = path.join(scratch, `${source.name}.snapshot.sqlite`);
  progress.setPhase('snapshot', source.name);
  let live: Database.Database;
  try {
    live = new Database(source.path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw openError(err, source);
  }
  let journalMode: string;
  try {
    live.pragma('busy_timeout = 10000');
    journalMode = String(live.pragma('journal_mode', { simple: true }));
    // Between steps a write by another process restarts the copy, so after the first step the
    // whole database is copied in one step, under one read. Throwing here ends the backup (a
    // returned 0 would mean "copy no pages" and spin for ever).
    await live.backup(snapshot, {
      progress: () => {
        if (signal.aborted) throw cancelled();
        return 0x7fffffff;
      },
    });
  } catch (err) {
    throw openError(err, source);
  } finally {
    live.close();
  }
  if (signal.aborted) throw cancelled();

  // The owner and mode a restore gives the database where there is none live (a lost disk).
  const file = (await Accounts.load()).record(await fs.stat(source.path).catch((err: unknown) => Promise.reject(fsError(err, source.path, false) ?? err)));
  const snap = new Database(snapshot, { readonly: true });
  let details: Omit<Extract<Artifact['details'], { type: 'sqlite' }>, 'rawSize' | 'rawSha256'>;
  try {
    details = {
      type: 'sqlite',
      pageSize: Number(snap.pragma('page_size', { simple: true })),
      sqliteVersion: String(snap.prepare('SELECT sqlite_version()').pluck().get()),
      journalMode,
      tables: tableCounts(snap),
      file,
    };
  } finally {
    snap.close();
  }

  progress.setPhase('compress', source.name);
  const artifactFile = `${source.name}.sqlite.gz`;
  const written = await writer.write(artifactFile, createReadStream(snapshot, { highWaterMark: 1 << 20 }), {
    compression: 'gzip',
    signal,
    onRawBytes: (n) => progress.addBytes(n),
  });
  progress.addFiles(1);
  await fs.rm(snapshot, { force: true });
  return [
    {
      source: source.name,
      kind: 'sqlite',
      ...written.stored,
      details: { ...details, rawSize: written.raw.size, rawSha256: written.raw.sha256 },
    },
  ];
}

function openError(err: unknown, source: SqliteSource): LifeboatError {
  if (err instanceof LifeboatError) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new LifeboatError(
      'SOURCE_NOT_SQLITE',
      `${source.path} could not be read as a SQLite database: ${message}.`,
      'Check the path, or repair the database with the application that owns it before backing it up.',
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new LifeboatError('SOURCE_READ_FAILED', `${source.path} stayed locked by another program for 10 seconds.`, 'Run the backup again when the application is less busy.');
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_READONLY')) {
    return new LifeboatError(
      'SOURCE_UNREADABLE',
      `${source.path} could not be opened: ${message}.`,
      'Give the user running Lifeboat read permission on the database and its folder (SQLite needs the -wal and -shm files beside it).',
    );
  }
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE') {
    return new LifeboatError('DISK_FULL', `Disk full while taking a snapshot of ${source.path}.`, "Free space on the backup location's disk and run the backup again; nothing was sealed.");
  }
  return new LifeboatError('SOURCE_READ_FAILED', `Reading ${source.path} failed: ${message}.`, 'Check that the database is healthy, then run the backup again.');
}

type SqliteDetails = Extract<Artifact['details'], { type: 'sqlite' }>;

/**
 * Proves a database file holds what the set recorded: it opens, passes `PRAGMA integrity_check`,
 * and has every recorded table with its recorded row count. Used on the drill's scratch copy, on a
 * restore's staged copy and on the live target after a restore. Returns whether all passed.
 */
export async function proveDatabase(file: string, details: SqliteDetails, checks: DrillCheck[], target: string, options: { readonly: boolean }): Promise<boolean> {
  let db: Database.Database | undefined;
  const before = checks.length;
  try {
    const opened = await timedCheck(checks, target, 'opens as SQLite', async () => {
      db = new Database(file, { fileMustExist: true, readonly: options.readonly });
      return `SQLite ${String(db.prepare('SELECT sqlite_version()').pluck().get())}, page size ${String(db.pragma('page_size', { simple: true }))}`;
    });
    if (!opened || !db) return false;
    const open = db;
    await timedCheck(checks, target, 'PRAGMA integrity_check', async () => {
      const messages = (open.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
      if (messages.length !== 1 || messages[0] !== 'ok') throw new Error(messages.slice(0, 5).join('; '));
      return 'ok';
    });
    const now = new Map(tableCounts(open).map((t) => [t.name, t.rows]));
    const present = await timedCheck(checks, target, 'recorded tables present', async () => {
      const missing = details.tables.filter((t) => !now.has(t.name)).map((t) => t.name);
      if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
      return count(details.tables.length, 'table');
    });
    if (present) {
      await timedCheck(checks, target, 'row counts as recorded', async () => {
        const wrong = details.tables.filter((t) => now.get(t.name) !== t.rows).map((t) => `${t.name}: ${now.get(t.name)} rows, recorded ${t.rows}`);
        if (wrong.length) throw new Error(wrong.join('; '));
        const total = details.tables.reduce((sum, t) => sum + t.rows, 0);
        return `${count(total, 'row')} in ${count(details.tables.length, 'table')}`;
      });
    }
  } catch (err) {
    if (err instanceof LifeboatError) throw err;
    checks.push({ target, name: 'readable', status: 'FAIL', reason: err instanceof Error ? err.message : String(err), durationMs: 0 });
  } finally {
    db?.close();
  }
  return checks.slice(before).every((c) => c.status === 'PASS');
}

/** Rebuilds the database file from the artifact at `dest`, proving it is the recorded snapshot. */
export async function expandSnapshot(
  reader: ArtifactReader,
  artifact: Artifact & { details: SqliteDetails },
  dest: string,
  checks: DrillCheck[],
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<boolean> {
  const details = artifact.details;
  return timedCheck(checks, artifact.file, 'decompresses to the recorded snapshot', async () => {
    const got = await reader.materialize(artifact, dest, { signal, onBytes });
    if (got.size !== details.rawSize || got.sha256 !== details.rawSha256) {
      throw new Error(`decompressed to ${got.size} bytes with SHA-256 ${got.sha256.slice(0, 12)}…, the manifest records ${details.rawSize} bytes and ${details.rawSha256.slice(0, 12)}…`);
    }
    return `${details.rawSize} bytes, SHA-256 matches`;
  });
}

/** The sqlite artifact of a source's artifacts. */
export function snapshotOf(artifacts: Artifact[]): (Artifact & { details: SqliteDetails }) | undefined {
  return artifacts.find((a): a is Artifact & { details: SqliteDetails } => a.details.type === 'sqlite');
}

/** Rebuilds the snapshot in scratch, then proves it opens, passes integrity_check and has its rows. */
async function check(ctx: CheckContext): Promise<DrillCheck[]> {
  const checks: DrillCheck[] = [];
  const artifact = snapshotOf(ctx.artifacts);
  if (!artifact) return checks;
  const raw = path.join(ctx.scratch, `${artifact.source}.sqlite`);
  ctx.progress.setPhase('decompress', artifact.source);
  if (!(await expandSnapshot(ctx.reader, artifact, raw, checks, ctx.signal, (n) => ctx.progress.addBytes(n)))) return checks;
  ctx.progress.setPhase('integrity check', artifact.source);
  await proveDatabase(raw, artifact.details, checks, artifact.file, { readonly: false });
  return checks;
}

export const sqlitePlugin: SourcePlugin<SqliteSource> = { kind: 'sqlite', inspect, capture, check };
