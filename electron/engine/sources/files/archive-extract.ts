import { Unpack, type ReadEntry } from 'tar';
import { promises as fs } from 'node:fs';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import type { Artifact, ArchiveDetails } from '../../../../shared/manifest.js';
import { cancelled, LifeboatError } from '../../errors.js';
import { HashTap } from '../../pipeline.js';
import type { ArtifactReader } from '../../codec/index.js';
import type { ProgressMeter } from '../../progress.js';
import type { EntryHeader, Listing } from './file-index.js';

/** How an extraction treats links, and what it reports to. */
export interface ExtractOptions {
  /**
   * `record` (the drill): links are listed with their targets and never created. `create` (a
   * restore): links are created exactly as recorded, but only after every file and folder is
   * written, so nothing is ever written through one.
   */
  links: 'record' | 'create';
  signal: AbortSignal;
  progress: ProgressMeter;
}

/** What an extraction found, each entry's tar header, and the entries it refused (each named, with why). */
export interface Extracted extends Listing {
  headers: Map<string, EntryHeader>;
  refused: string[];
}

const UNSAFE_HINT = 'The archive does not match its manifest: it may be damaged or forged. Use another set, and run a drill on this one.';

/**
 * Counts file bytes against the manifest's total across one extraction: a bomb stops at its
 * budget. Past it, the tap reports the failure and swallows the rest of the entry instead of
 * erroring: node-tar pipes each entry into its transform and, when that stream errors, waits
 * for a drain that never comes, so the archive would never settle.
 */
class BudgetTap extends HashTap {
  constructor(
    private readonly budget: { left: number; total: number },
    private readonly name: string,
    onBytes: (n: number) => void,
    private readonly fail: (err: LifeboatError) => void,
  ) {
    super(onBytes);
  }
  override _transform(chunk: Buffer, enc: BufferEncoding, done: TransformCallback): void {
    if (this.budget.left < 0) return done();
    this.budget.left -= chunk.length;
    if (this.budget.left < 0) {
      this.fail(new LifeboatError('UNSAFE_ARCHIVE', `its files expand past the ${this.budget.total} bytes the manifest records (at ${this.name}); extraction stopped`, UNSAFE_HINT));
      return done();
    }
    super._transform(chunk, enc, done);
  }
}

const SAFE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink']);

function refusal(raw: string, type: string): string | undefined {
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return 'an absolute path';
  if (raw.split('/').includes('..')) return 'climbs out of its folder with ".."';
  if (!SAFE_TYPES.has(type)) return `a ${type} entry, which is never extracted`;
  return undefined;
}

const entryName = (raw: string) => path.posix.normalize(raw).replace(/\/+$/, '') || '.';

/** `a`, `a/b` for `a/b/c`: the folders an entry lies in. */
function ancestors(name: string): string[] {
  const parts = name.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * Extracts an archive into `dest` with node-tar in strict mode. Every entry is vetted first:
 * absolute paths, "..", hard links, devices and FIFOs, duplicates, and entries that would lie
 * under a link or a file are refused and listed, never silently stripped. File bytes are hashed
 * as they are written and capped at the manifest's total; entries are capped too (a bomb throws
 * UNSAFE_ARCHIVE naming where it stopped). In `create` mode links are made last, and only when
 * nothing was refused; a link whose path already exists is refused.
 */
export async function extract(reader: ArtifactReader, artifact: Artifact, dest: string, details: ArchiveDetails, opts: ExtractOptions): Promise<Extracted> {
  const got = {
    files: new Map<string, { size: number; sha256: string }>(),
    dirs: new Set<string>(),
    links: new Map<string, string>(),
    headers: new Map<string, EntryHeader>(),
    refused: [] as string[],
  };
  // Each file's size and SHA-256, kept as its stream finishes: holding the streams themselves
  // until the end would grow memory with the number of files.
  const written = new Map<string, { size: number; sha256: string }>();
  const open = new Set<string>();
  const kinds = new Map<string, string>(); // every accepted entry and its tar type
  const parents = new Set<string>(); // folders that accepted entries lie in
  const recorded = details.fileCount + details.dirCount + details.symlinkCount;
  const budget = { left: details.totalBytes, total: details.totalBytes };
  const name = artifact.file;
  // The tar stream, decompressed and checked by the codec (its bytes against the manifest, its size against the budget the manifest gives).
  const src = reader.open(artifact, { signal: opts.signal });
  let stopped = false; // after a failure no further entry is accepted
  let failure: LifeboatError | undefined; // our own first refusal, which ends the extraction
  let current: string | undefined; // the entry node-tar is at, so an error can name it
  const fail = (err: LifeboatError) => {
    failure ??= err;
    stopped = true;
    src.destroy(err);
  };
  const placement = (entry: string, type: string): string | undefined => {
    if (kinds.has(entry)) return 'appears twice';
    if (type !== 'Directory' && parents.has(entry)) return 'earlier entries use that path as a folder';
    const under = ancestors(entry).find((a) => kinds.has(a) && kinds.get(a) !== 'Directory');
    return under ? `lies under ${kinds.get(under) === 'SymbolicLink' ? 'the link' : 'the file'} ${under}` : undefined;
  };
  const unpack = new Unpack({
    cwd: dest,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    noMtime: true,
    filter: (raw, stat) => {
      if (stopped) return false;
      const entry = stat as ReadEntry; // extraction always passes a ReadEntry (Stats only when packing)
      const at = entryName(raw);
      current = raw;
      const unsafe = refusal(raw, entry.type);
      if (!unsafe && at === '.' && entry.type === 'Directory') return false; // the archive's own top folder
      const why = unsafe ?? placement(at, entry.type);
      if (why) {
        got.refused.push(`${raw} (${why})`);
        return false;
      }
      kinds.set(at, entry.type);
      // Read here, before node-tar's unpacking adjusts a folder's mode for its own use.
      got.headers.set(at, { size: entry.size, mtimeMs: entry.mtime?.getTime(), mode: entry.mode, uid: entry.uid, gid: entry.gid, uname: entry.uname || undefined, gname: entry.gname || undefined });
      for (const a of ancestors(at)) parents.add(a);
      if (kinds.size > recorded + 100)
        fail(new LifeboatError('UNSAFE_ARCHIVE', `it holds more than ${recorded + 100} entries, the manifest records ${recorded}; extraction stopped (at ${at})`, UNSAFE_HINT));
      if (entry.type === 'SymbolicLink') got.links.set(at, entry.linkpath ?? '');
      if (entry.type === 'Directory') got.dirs.add(at);
      return entry.type !== 'SymbolicLink';
    },
    onwarn: (code, message) => void got.refused.push(`${code}: ${message}`),
    transform: (entry) => {
      const at = entryName(entry.path);
      const tap = new BudgetTap(budget, at, (n) => opts.progress.addBytes(n), fail);
      // Should the tap fail anyway, node-tar resumes the entry to skip it, but a piped entry waits
      // for the failed tap to drain: unpiped first (this listener runs before node-tar's), it can end.
      tap.once('error', () => void entry.unpipe(tap as unknown as ReadEntry));
      open.add(at);
      tap.once('finish', () => {
        written.set(at, { size: tap.bytes, sha256: tap.digest() });
        open.delete(at);
      });
      // node-tar pipes the entry into the returned stream; its type names node-tar's own Minipass class, but any stream with write/end/pipe works.
      return tap as unknown as ReadEntry;
    },
  });
  // node-tar emits 'end' once the archive has ended and every entry's file work has settled.
  const idle = new Promise<void>((resolve) => unpack.once('end', () => resolve()));
  try {
    // node-tar's Unpack is a Minipass-style writable, not a Node stream class; pipeline drives it through write/end/events.
    await pipeline(src, unpack as unknown as NodeJS.WritableStream, { signal: opts.signal });
    // A refusal after the last read of the file cannot fail the pipeline any more.
    if (failure) throw failure;
  } catch (caught) {
    stopped = true;
    await settle(unpack, idle);
    if (opts.signal.aborted) throw cancelled();
    const err = failure ?? caught;
    const message = `${name} could not be extracted: ${namingEntry(err, current)}`;
    // A budget or entry cap (ours, or the codec's DRILL_FAILED) means the archive is not what its manifest says.
    if (err instanceof LifeboatError && (err.code === 'UNSAFE_ARCHIVE' || err.code === 'DRILL_FAILED')) throw new LifeboatError('UNSAFE_ARCHIVE', message, UNSAFE_HINT);
    // eslint-disable-next-line preserve-caught-error -- the refusal recorded while reading is the real cause; the pipeline's error only follows from it
    throw new Error(message, { cause: err });
  }
  if (open.size) throw new Error(`${[...open][0]} was not completely read from the archive`);
  for (const [at, file] of written) {
    const onDisk = await fs.lstat(path.join(dest, at)).catch(() => undefined);
    if (!onDisk?.isFile() || onDisk.size !== file.size) throw new Error(`${at} was not written to ${dest} as read from the archive`);
    got.files.set(at, file);
    opts.progress.addFiles(1);
  }
  if (opts.links === 'create' && !got.refused.length) await createLinks(dest, got.links, got.refused);
  return got;
}

/**
 * After a failure node-tar may still be writing entries it accepted (the pipeline does not stop
 * it; the filter already refuses further entries): end its input so a half-read entry is closed,
 * and wait until its work settles, so the caller can remove `dest` without racing it. Late errors
 * are ignored.
 */
async function settle(unpack: Unpack, idle: Promise<void>): Promise<void> {
  unpack.on('error', () => {});
  unpack.end();
  // A bound, in case node-tar never settles. The timer keeps the process alive: an unreferenced
  // one let the CLI exit (status 13, nothing printed) with this await still pending.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([idle, new Promise<void>((resolve) => (timer = setTimeout(resolve, 30_000)))]);
  clearTimeout(timer);
}

/** An extraction error's message, naming the entry it happened at (node-tar attaches it; otherwise the last one reached). */
function namingEntry(err: unknown, current: string | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof LifeboatError) return message;
  const entry = (err as { entry?: { path?: unknown } }).entry?.path;
  if (typeof entry === 'string') return message.includes(entry) ? message : `${message} (at entry ${entry})`;
  return current === undefined ? `${message} (before its first entry)` : `${message} (at or after entry ${current})`;
}

/**
 * Creates the recorded links once every file and folder exists. The vetting above guarantees no
 * link lies under another link, so the folders made here are real folders inside `dest`.
 */
async function createLinks(dest: string, links: Map<string, string>, refused: string[]): Promise<void> {
  for (const [at, target] of links) {
    const abs = path.join(dest, at);
    if (
      await fs.lstat(abs).then(
        () => true,
        () => false,
      )
    ) {
      refused.push(`${at} (a link at a path the archive already filled)`);
      continue;
    }
    await fs.mkdir(path.dirname(abs), { recursive: true });
    await fs.symlink(target, abs);
  }
}
