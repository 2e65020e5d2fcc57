import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Artifact } from '../../../../shared/manifest.js';
import type { ArtifactReader, ArtifactWriter, Written } from '../../codec/index.js';

/** The index format this Lifeboat writes and the newest it reads. */
export const INDEX_FORMAT = 1;

/** Owner and group: numeric ids, and names where they resolved at backup (absent in older sets). */
const ownerFields = {
  uid: z.number().int().nonnegative().optional(),
  gid: z.number().int().nonnegative().optional(),
  user: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
};

const common = {
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  /** Modification time in milliseconds since the epoch. */
  mtime: z.number(),
  /** Permission bits (`mode & 0o7777`). */
  mode: z.number().int().nonnegative(),
  ...ownerFields,
};

/** One line of the index after its header: an archive entry, in archive order. */
export const IndexEntry = z.discriminatedUnion('type', [
  z.object({ ...common, type: z.literal('file'), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex') }),
  z.object({ ...common, type: z.literal('dir') }),
  z.object({ ...common, type: z.literal('symlink'), target: z.string().min(1) }),
]);
export type IndexEntry = z.infer<typeof IndexEntry>;

/** The first line of the index: which format, which source, the folder it was taken from and that folder's owner and mode (absent in older sets). */
export const IndexHeader = z.object({ format: z.number().int().positive(), source: z.string(), root: z.string(), mode: z.number().int().nonnegative().optional(), ...ownerFields });
export type IndexHeader = z.infer<typeof IndexHeader>;

/**
 * Writes the index as an uncompressed artifact (one JSON object a line, header first, keys in a
 * fixed order) through the same fsynced, hashed pipeline as every other artifact.
 */
export function writeIndex(writer: ArtifactWriter, file: string, header: IndexHeader, entries: IndexEntry[], signal?: AbortSignal): Promise<Written> {
  const owner = (o: { uid?: number; gid?: number; user?: string; group?: string }) => ({ uid: o.uid, gid: o.gid, user: o.user, group: o.group });
  function* lines(): Generator<Buffer> {
    yield Buffer.from(`${JSON.stringify({ format: header.format, source: header.source, root: header.root, mode: header.mode, ...owner(header) })}\n`);
    for (const e of entries) {
      const extra = e.type === 'file' ? { sha256: e.sha256 } : e.type === 'symlink' ? { target: e.target } : {};
      yield Buffer.from(`${JSON.stringify({ path: e.path, type: e.type, size: e.size, mtime: e.mtime, mode: e.mode, ...owner(e), ...extra })}\n`);
    }
  }
  return writer.write(file, Readable.from(lines(), { objectMode: false }), { compression: 'none', signal });
}

/**
 * Reads and validates a whole index. Throws an Error naming the first bad line (not JSON, a
 * missing field, a path listed twice) or a format newer than this Lifeboat reads.
 */
export async function readIndex(reader: ArtifactReader, artifact: Artifact, signal?: AbortSignal): Promise<{ header: IndexHeader; entries: IndexEntry[] }> {
  const input = reader.open(artifact, { signal });
  input.setEncoding('utf8');
  const rl = createInterface({ input, crlfDelay: Infinity });
  let header: IndexHeader | undefined;
  const entries: IndexEntry[] = [];
  const seen = new Set<string>();
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`line ${n} is not JSON: ${line.slice(0, 80)}`);
      }
      const parsed = (header ? IndexEntry : IndexHeader).safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(`line ${n} is not a valid ${header ? 'entry' : 'header'}: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
      }
      if (!header) {
        header = parsed.data as IndexHeader;
        if (header.format > INDEX_FORMAT) throw new Error(`the index was made by a newer Lifeboat (format ${header.format}); update Lifeboat to read it`);
        continue;
      }
      const entry = parsed.data as IndexEntry;
      if (seen.has(entry.path)) throw new Error(`line ${n} lists ${entry.path} a second time`);
      seen.add(entry.path);
      entries.push(entry);
    }
  } finally {
    input.destroy(); // a bad line stops the read: the file is closed, not left paused
  }
  if (!header) throw new Error('the index is empty (no header line)');
  return { header, entries };
}

/** What an extraction found: files with their size and SHA-256, folders, and links with their targets. */
export interface Listing {
  files: Map<string, { size: number; sha256: string }>;
  dirs: Set<string>;
  links: Map<string, string>;
}

/** What an archive entry's tar header says besides its name and kind (pax records included). */
export interface EntryHeader {
  size?: number;
  mtimeMs?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
}

/** The largest id a tar header's 6-digit octal owner field holds; the backup's headers show larger ids as this. */
const TAR_MAX_ID = 0o777777;

/** A name as the backup puts it in a tar header's 32-byte owner field: none when it does not fit. */
export const tarName = (name: string | undefined) => (name && Buffer.byteLength(name) < 32 ? name : undefined);

const octal = (mode: number) => mode.toString(8).padStart(4, '0');
const time = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? 'none' : new Date(ms).toISOString());
const owner = (uid: number | undefined, gid: number | undefined, user: string | undefined, group: string | undefined) =>
  `${uid ?? '?'}:${gid ?? '?'}${user || group ? ` ${user ?? '?'}:${group ?? '?'}` : ''}`;

/**
 * Every index field an archive's tar headers also carry — modification time, permission bits,
 * owner and group ids and names, and the size of a folder or link (0) — compared entry by entry;
 * file sizes, hashes and link targets are `diffIndex`'s. The restore takes times, modes and
 * owners from the index, so an index that disagrees with its archive would restore something the
 * archive does not hold. Owner fields are compared where the index records them (older sets do
 * not). Returns one line per entry that differs, naming the path and what differs.
 */
export function diffHeaders(entries: IndexEntry[], headers: Map<string, EntryHeader>): string[] {
  const wrong: string[] = [];
  for (const e of entries) {
    const h = headers.get(e.path);
    if (!h) continue; // a missing entry is diffIndex's to name
    const problems: string[] = [];
    if (e.type !== 'file' && h.size !== e.size) problems.push(`size ${h.size ?? 'none'}, indexed ${e.size}`);
    // Within a millisecond: the index rounds a time to one, node-tar truncates the pax seconds it reads back.
    if (!(Math.abs((h.mtimeMs ?? Number.NaN) - e.mtime) <= 1)) problems.push(`modified ${time(h.mtimeMs)}, indexed ${time(e.mtime)}`);
    if (h.mode !== e.mode) problems.push(`mode ${h.mode === undefined ? 'none' : octal(h.mode)}, indexed ${octal(e.mode)}`);
    const idOk = (got: number | undefined, want: number | undefined) => want === undefined || got === Math.min(want, TAR_MAX_ID);
    const nameOk = (got: string | undefined, want: string | undefined) => want === undefined || got === tarName(want);
    if (!idOk(h.uid, e.uid) || !idOk(h.gid, e.gid) || !nameOk(h.uname, e.user) || !nameOk(h.gname, e.group)) {
      problems.push(`owner ${owner(h.uid, h.gid, h.uname, h.gname)}, indexed ${owner(e.uid, e.gid, e.user, e.group)}`);
    }
    if (problems.length) wrong.push(`${e.path} (${problems.join('; ')})`);
  }
  return wrong;
}

/**
 * Differences between an archive's listing and its index, each a list of paths an operator can
 * read. A missing file is also in `wrongContent` and a missing link in `wrongTarget`, so no
 * check of hashes or targets passes over an entry it could not see.
 */
export interface IndexDiff {
  missing: string[];
  extra: string[];
  wrongType: string[];
  wrongContent: string[];
  wrongTarget: string[];
}

function typeIn(listing: Listing, p: string): IndexEntry['type'] | undefined {
  if (listing.files.has(p)) return 'file';
  if (listing.dirs.has(p)) return 'dir';
  if (listing.links.has(p)) return 'symlink';
  return undefined;
}

/** Compares every index entry with what the archive held: presence, kind, size and hash, link target. */
export function diffIndex(entries: IndexEntry[], listing: Listing): IndexDiff {
  const diff: IndexDiff = { missing: [], extra: [], wrongType: [], wrongContent: [], wrongTarget: [] };
  const indexed = new Set<string>();
  for (const e of entries) {
    indexed.add(e.path);
    const got = typeIn(listing, e.path);
    if (!got) {
      diff.missing.push(e.path);
      if (e.type === 'file') diff.wrongContent.push(`${e.path} (missing)`);
      if (e.type === 'symlink') diff.wrongTarget.push(`${e.path} (missing)`);
    } else if (got !== e.type) diff.wrongType.push(`${e.path} (${got}, indexed as ${e.type})`);
    else if (e.type === 'file') {
      const f = listing.files.get(e.path);
      if (f && (f.size !== e.size || f.sha256 !== e.sha256))
        diff.wrongContent.push(`${e.path} (${f.size} bytes, SHA-256 ${f.sha256.slice(0, 12)}…; indexed ${e.size} bytes, ${e.sha256.slice(0, 12)}…)`);
    } else if (e.type === 'symlink' && listing.links.get(e.path) !== e.target) {
      diff.wrongTarget.push(`${e.path} -> ${listing.links.get(e.path) ?? ''} (indexed -> ${e.target})`);
    }
  }
  for (const p of [...listing.files.keys(), ...listing.dirs, ...listing.links.keys()]) if (!indexed.has(p)) diff.extra.push(p);
  return diff;
}

/** The first few items of a list by name, and how many more: what an operator can act on. */
export function firstFew(items: string[], n = 5): string {
  const shown = items.slice(0, n).join(', ');
  return items.length > n ? `${shown} and ${items.length - n} more` : shown;
}
