import { z } from 'zod';
import { Environment } from './environment.js';

/** The manifest format this Lifeboat writes and the newest it reads. */
export const MANIFEST_FORMAT = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const iso = z.string().datetime();

/**
 * A path's owner and permission bits as the backup found them: numeric ids, and the account
 * names where they resolved on the machine that made the set. A restore uses them for paths the
 * live data does not have (see docs/FORMAT.md); sets made before they were recorded lack them.
 */
export const FileOwner = z.object({
  /** Permission bits (`mode & 0o7777`). */
  mode: z.number().int().nonnegative(),
  uid: z.number().int().nonnegative(),
  gid: z.number().int().nonnegative(),
  user: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
});
export type FileOwner = z.infer<typeof FileOwner>;

/** What the drill needs to prove a SQLite artifact, all taken from the snapshot, not the live file. */
export const SqliteDetails = z.object({
  type: z.literal('sqlite'),
  rawSize: z.number().int().nonnegative(),
  rawSha256: sha256,
  pageSize: z.number().int().positive(),
  sqliteVersion: z.string(),
  journalMode: z.string(),
  tables: z.array(z.object({ name: z.string(), rows: z.number().int().nonnegative() })),
  /** The live database file's owner and mode when it was read (absent in older sets). */
  file: FileOwner.optional(),
});

/** What the drill needs to prove a folder archive. */
export const ArchiveDetails = z.object({
  type: z.literal('archive'),
  /** Regular files, their bytes, folders and symbolic links in the archive. */
  fileCount: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative(),
  dirCount: z.number().int().nonnegative(),
  symlinkCount: z.number().int().nonnegative(),
  /** The file of the per-file index artifact in the same set. */
  indexFile: z.string(),
});
export type ArchiveDetails = z.infer<typeof ArchiveDetails>;

/** The per-file index of an archive: one JSON object a line (see docs/FORMAT.md). */
export const FileIndexDetails = z.object({
  type: z.literal('file-index'),
  entries: z.number().int().nonnegative(),
});

/** A table (`schema.name`) or a Django model (`app.model`) and how many rows or objects it holds. */
const Counted = z.object({ name: z.string(), rows: z.number().int().nonnegative() });

/** What the drill needs to prove a `pg_dump -Fc` archive; the counts come from the dump's own snapshot. */
export const PgDumpDetails = z.object({
  type: z.literal('pg-dump'),
  database: z.string(),
  /** `SHOW server_version` and `pg_dump --version` at capture. */
  serverVersion: z.string(),
  pgDumpVersion: z.string(),
  /** Every ordinary table with its exact row count, counted in the transaction whose snapshot pg_dump used. */
  tables: z.array(Counted),
});
export type PgDumpDetails = z.infer<typeof PgDumpDetails>;

/** What the drill needs to prove a command's output, stored gzip-compressed. */
export const CommandOutputDetails = z.object({
  type: z.literal('command-output'),
  /** Bytes and SHA-256 of the output as the command printed it. */
  rawSize: z.number().int().nonnegative(),
  rawSha256: sha256,
  format: z.enum(['raw', 'django-fixture']),
  /** Django fixtures: objects per model (`app_label.model`). */
  models: z.array(Counted).optional(),
});
export type CommandOutputDetails = z.infer<typeof CommandOutputDetails>;

export const ArtifactDetails = z.discriminatedUnion('type', [SqliteDetails, ArchiveDetails, FileIndexDetails, PgDumpDetails, CommandOutputDetails]);
export type ArtifactDetails = z.infer<typeof ArtifactDetails>;

export const Artifact = z.object({
  /** The source's name in the environment, and its kind. */
  source: z.string(),
  kind: z.string(),
  file: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/),
  size: z.number().int().nonnegative(),
  sha256,
  compression: z.enum(['gzip', 'none']),
  encryption: z.enum(['none']),
  details: ArtifactDetails,
});
export type Artifact = z.infer<typeof Artifact>;

export const Manifest = z.object({
  format: z.number().int().positive(),
  id: z.string(),
  app: z.string(),
  env: z.string(),
  /** Why the set exists beyond a plain backup, e.g. `pre-restore`. */
  label: z.string().nullable(),
  tool: z.object({ name: z.literal('lifeboat'), version: z.string() }),
  host: z.string(),
  startedAt: iso,
  finishedAt: iso,
  /** The environment as it was configured for this run, so a new workstation can adopt it. */
  environment: Environment,
  artifacts: z.array(Artifact),
  /**
   * The recovery card `RESTORE.txt` as written: its bytes and SHA-256, so a drill and
   * `sha256sum -c SHA256SUMS` check it too. Absent in sets made before it was recorded.
   */
  recoveryCard: z.object({ file: z.literal('RESTORE.txt'), size: z.number().int().nonnegative(), sha256 }).optional(),
  /**
   * The SHA-256 of the canonical body (every field but this one, keys sorted, no spaces), taken
   * over the JSON as written, so fields this Lifeboat does not know are covered too. It catches accidents such as a flipped byte, not tampering: anyone can recompute it.
   */
  integrity: z.object({ method: z.literal('sha256'), digest: sha256 }),
});
export type Manifest = z.infer<typeof Manifest>;

/** The recovery card every set carries: plain steps to check and restore it without Lifeboat. */
export const CARD_FILE = 'RESTORE.txt';

/** `{app}_{env}_{YYYYMMDD}_{HHMMSS}` with `_{n}` when two sets land in one second. */
export const SET_ID = /^([a-z0-9][a-z0-9-]*)_([a-z0-9][a-z0-9-]*)_(\d{8})_(\d{6})(?:_(\d+))?$/;
