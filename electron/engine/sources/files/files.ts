import type { EntryData, TarArchive } from 'archiver';
import { faultPoint } from '../../fault-points.js';
import { constants, createReadStream, promises as fs, type Stats } from 'node:fs';
import { once } from 'node:events';
import { PassThrough, pipeline as pipeCallback, type Readable, type TransformCallback } from 'node:stream';
import path from 'node:path';
import type { FilesSource } from '../../../../shared/environment.js';
import type { Artifact, ArchiveDetails } from '../../../../shared/manifest.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import { cancelled, fsError, LifeboatError, throwIfAborted } from '../../errors.js';
import { HashTap } from '../../pipeline.js';
import { timedCheck } from '../../checks.js';
import { walk, type WalkEntry } from './walk.js';
import { extract } from './archive-extract.js';
import { proveListing } from './tree-compare.js';
import { Accounts } from '../common/ownership.js';
import { diffHeaders, firstFew, INDEX_FORMAT, readIndex, tarName, writeIndex, type EntryHeader, type IndexEntry, type Listing } from './file-index.js';
import type { CaptureContext, CheckContext, SourcePlugin, SourceEstimate } from '../common/types.js';

const noop = () => {};
const sizeOf = (l: Listing) => [...l.files.values()].reduce((sum, f) => sum + f.size, 0);

/** archiver passes extra fields straight to tar-stream: `linkname` for links, `pax` records, owners. */
type TarEntry = EntryData & { linkname?: string; pax: Record<string, string>; uid: number; gid: number; uname?: string; gname?: string };

function changed(source: FilesSource, rel: string, why: string): LifeboatError {
  return new LifeboatError(
    'SOURCE_CHANGED',
    `${rel} in source "${source.name}" (${source.path}) changed while it was being backed up: ${why}.`,
    `Pause the application that writes it, or exclude "${rel}" from source "${source.name}", then back up again.`,
  );
}

async function inspect(source: FilesSource, signal: AbortSignal): Promise<SourceEstimate> {
  let st: Stats;
  try {
    st = await fs.stat(source.path);
  } catch (err) {
    throw fsError(err, source.path, false) ?? err;
  }
  if (!st.isDirectory()) {
    throw new LifeboatError(
      'SOURCE_NOT_FOLDER',
      `${source.path} is not a folder.`,
      `Point source "${source.name}" at the folder that holds the files; a single SQLite database belongs in a "sqlite" source.`,
    );
  }
  try {
    await fs.access(source.path, constants.R_OK | constants.X_OK);
  } catch {
    throw new LifeboatError('SOURCE_UNREADABLE', `No permission to list the folder ${source.path}.`, 'Give the user running Lifeboat read and execute (list) permission on it, e.g. chmod u+rx.');
  }
  const entries = await walk(source.path, source, source.name, signal);
  return entries.reduce((t, e) => (e.type === 'file' ? { bytes: t.bytes + e.size, files: t.files + 1 } : t), { bytes: 0, files: 0 });
}

/** Reads one file into the archive once: hashes and counts it, and fails if it changes while read. */
class FileRead extends HashTap {
  constructor(
    private readonly abs: string,
    private readonly before: Stats,
    private readonly fail: (why: string) => LifeboatError,
    onBytes: (n: number) => void,
  ) {
    super(onBytes);
  }
  override _transform(chunk: Buffer, enc: BufferEncoding, done: TransformCallback): void {
    if (this.bytes + chunk.length > this.before.size) return done(this.fail(`it grew past the ${this.before.size} bytes it had when reading began`));
    super._transform(chunk, enc, done);
  }
  override _flush(done: TransformCallback): void {
    const b = this.before;
    fs.lstat(this.abs).then(
      (a) =>
        done(
          a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && this.bytes === b.size
            ? null
            : this.fail(`${this.bytes} bytes were read, it now has ${a.size} and another modification time or inode`),
        ),
      () => done(this.fail('it disappeared')),
    );
  }
}

/** Appends one entry and waits until archiver has written it, or until something upstream fails. */
async function append(archive: TarArchive, input: Readable | Buffer, data: TarEntry, failed: Promise<never>, signal: AbortSignal): Promise<void> {
  const done = once(archive, 'entry', { signal });
  done.catch(noop);
  archive.append(input, data);
  await Promise.race([done, failed]);
}

async function packEntry(ctx: CaptureContext<FilesSource>, archive: TarArchive, entry: WalkEntry, failed: Promise<never>, current: { read?: FileRead }, accounts: Accounts): Promise<IndexEntry> {
  const { source, signal, progress } = ctx;
  const abs = path.join(source.path, entry.path);
  const st = await fs.lstat(abs).catch((err: unknown) => {
    throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? changed(source, entry.path, 'it disappeared') : (fsError(err, abs, false) ?? err);
  });
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'special file';
  if (type !== entry.type) throw changed(source, entry.path, `it was a ${entry.type} and is now a ${type}`);
  const name = type === 'dir' ? `${entry.path}/` : entry.path;
  const mtime = Math.round(st.mtimeMs);
  const mode = st.mode & 0o7777;
  const owner = accounts.record(st);
  // A pax `path` keeps the exact name (archiver rewrites "\" and a leading "word:"); pax `mtime` keeps milliseconds.
  // The owners in the tar headers are for a restore by hand (`tar -x` as root); Lifeboat's restore reads the index.
  const data: TarEntry = {
    name,
    mode,
    date: new Date(mtime),
    pax: { path: name, mtime: (mtime / 1000).toFixed(3) },
    uid: st.uid,
    gid: st.gid,
    uname: tarName(owner.user),
    gname: tarName(owner.group),
  };
  const base = { path: entry.path, size: 0, mtime, ...owner, mode };
  if (type === 'dir') {
    await append(archive, Buffer.alloc(0), { ...data, type: 'directory' }, failed, signal);
    return { ...base, type: 'dir' };
  }
  if (type === 'symlink') {
    const target = await fs.readlink(abs).catch((err: unknown) => {
      const known = fsError(err, abs, false);
      throw known?.code === 'SOURCE_UNREADABLE' ? known : changed(source, entry.path, 'the link changed or disappeared');
    });
    await append(archive, Buffer.alloc(0), { ...data, type: 'symlink', linkname: target }, failed, signal);
    return { ...base, type: 'symlink', target };
  }
  const read = new FileRead(
    abs,
    st,
    (why) => changed(source, entry.path, why),
    (n) => progress.addBytes(n),
  );
  current.read = read;
  const readFailed = new Promise<never>((_, reject) => read.once('error', reject));
  pipeCallback(createReadStream(abs, { highWaterMark: 1 << 20 }), read, noop);
  // With `stats` (and so a size) archiver streams the entry instead of collecting it in memory.
  await append(archive, read, { ...data, stats: st }, Promise.race([failed, readFailed]), signal).catch((err: unknown) => {
    throw err instanceof LifeboatError ? err : (fsError(err, abs, false) ?? err);
  });
  current.read = undefined;
  progress.addFiles(1);
  return { ...base, type: 'file', size: st.size, sha256: read.digest() };
}

/**
 * Packs the folder as `<name>.tar.gz` (files read once, hashed and checked for change as they
 * stream; links stored as links, never followed) and writes its per-file index
 * `<name>.files.jsonl`. On any failure neither artifact is left in the set folder.
 */
async function capture(ctx: CaptureContext<FilesSource>): Promise<Artifact[]> {
  const { source, writer, signal, progress } = ctx;
  progress.setPhase('scan', source.name);
  const entries = await walk(source.path, source, source.name, signal);
  const accounts = await Accounts.load();
  const rootOwner = accounts.record(await fs.stat(source.path).catch((err: unknown) => Promise.reject(fsError(err, source.path, false) ?? err)));
  progress.setPhase('pack', source.name);
  const file = `${source.name}.tar.gz`;
  const indexFile = `${source.name}.files.jsonl`;
  // Loaded here, not at start: archiver is the costliest module to load, and most commands never pack.
  const { TarArchive: Tar } = await import('archiver');
  const archive = new Tar();
  // The write pipeline reads through `gate`, so a failure tears down the gate and never archiver
  // itself: destroying archiver mid-entry makes tar-stream emit errors no caller can listen to.
  const gate = new PassThrough();
  archive.on('error', (err) => gate.destroy(err));
  archive.on('warning', (err) => gate.destroy(err));
  archive.pipe(gate);
  const writing = writer.write(file, gate, { compression: 'gzip', signal });
  const failed = new Promise<never>((_, reject) => void writing.catch(reject));
  failed.catch(noop);
  const records: IndexEntry[] = [];
  const current: { read?: FileRead } = {};
  let written;
  try {
    const half = Math.floor(entries.length / 2);
    for (const entry of entries) {
      throwIfAborted(signal);
      records.push(await packEntry(ctx, archive, entry, failed, current, accounts));
      if (records.length === half) await faultPoint('backup:mid-archive', signal);
    }
    archive.finalize().catch(noop);
    written = await writing;
  } catch (err) {
    current.read?.destroy();
    archive.unpipe(gate); // the abandoned archiver stalls on back-pressure and is collected
    gate.destroy(err instanceof Error ? err : new Error(String(err)));
    await writing.catch(noop); // the writer removes the partial file before it settles
    if (signal.aborted) throw cancelled();
    throw err;
  }
  progress.setPhase('index', source.name);
  // Should the index fail, the run removes the partial set with the archive in it.
  const index = await writeIndex(writer, indexFile, { format: INDEX_FORMAT, source: source.name, root: source.path, ...rootOwner }, records, signal);
  const count = (t: IndexEntry['type']) => records.filter((r) => r.type === t).length;
  const totalBytes = records.reduce((sum, r) => sum + (r.type === 'file' ? r.size : 0), 0);
  const common = { source: source.name, kind: 'files' } as const;
  return [
    { ...common, ...written.stored, details: { type: 'archive', fileCount: count('file'), totalBytes, dirCount: count('dir'), symlinkCount: count('symlink'), indexFile } },
    { ...common, ...index.stored, details: { type: 'file-index', entries: records.length } },
  ];
}

async function checkArchive(ctx: CheckContext, artifact: Artifact, details: ArchiveDetails, checks: DrillCheck[]): Promise<void> {
  const target = artifact.file;
  const indexArtifact = ctx.artifacts.find((a) => a.file === details.indexFile);
  let index: IndexEntry[] | undefined;
  await timedCheck(checks, details.indexFile, 'index parses', async () => {
    if (indexArtifact?.details.type !== 'file-index') throw new Error(`the manifest lists no index ${details.indexFile} for ${target}`);
    const read = await readIndex(ctx.reader, indexArtifact, ctx.signal);
    if (read.entries.length !== indexArtifact.details.entries) throw new Error(`it lists ${read.entries.length} entries, the manifest records ${indexArtifact.details.entries}`);
    index = read.entries;
    return `${read.entries.length} entries of source "${read.header.source}", format ${read.header.format}`;
  });
  throwIfAborted(ctx.signal);
  ctx.progress.setPhase('extract', artifact.source);
  const dest = await fs.mkdtemp(path.join(ctx.scratch, `${artifact.source}-extract-`));
  try {
    let listing: Listing | undefined;
    let headers: Map<string, EntryHeader> | undefined;
    await timedCheck(checks, target, 'extracts safely', async () => {
      const got = await extract(ctx.reader, artifact, dest, details, { links: 'record', signal: ctx.signal, progress: ctx.progress });
      listing = got;
      headers = got.headers;
      if (got.refused.length) throw new Error(`refused ${got.refused.length} entries: ${firstFew(got.refused)}; nothing was written outside the scratch folder`);
      return `${got.files.size + got.dirs.size + got.links.size} entries extracted into a scratch folder, none refused; links recorded, not followed`;
    });
    if (!listing) return;
    const l = listing;
    await timedCheck(checks, target, 'file count and bytes as recorded', async () => {
      const got = { fileCount: l.files.size, totalBytes: sizeOf(l), dirCount: l.dirs.size, symlinkCount: l.links.size };
      const labels = { fileCount: 'files', totalBytes: 'bytes', dirCount: 'folders', symlinkCount: 'links' } as const;
      const wrong = (Object.keys(labels) as (keyof typeof got)[]).filter((k) => got[k] !== details[k]).map((k) => `${got[k]} ${labels[k]} (recorded ${details[k]})`);
      if (wrong.length) throw new Error(`the archive holds ${wrong.join(', ')}`);
      return `${got.fileCount} files, ${got.totalBytes} bytes, ${got.dirCount} folders, ${got.symlinkCount} links, as recorded`;
    });
    if (!index) return;
    await proveListing(checks, target, index, l, 'the archive');
    const entries = index;
    const h = headers ?? new Map<string, EntryHeader>();
    await timedCheck(checks, target, 'times, modes and owners match the index', async () => {
      const wrong = diffHeaders(entries, h);
      if (wrong.length) throw new Error(`${wrong.length} entries differ from the index: ${firstFew(wrong)}; a restore would give them the index's values`);
      return `${entries.length} entries: modification times, modes${entries.some((e) => e.uid !== undefined) ? ', owners and groups' : ''} as indexed`;
    });
  } finally {
    await fs.rm(dest, { recursive: true, force: true });
  }
}

/** Proves each archive extracts safely to exactly the files, folders and links its index records. */
async function check(ctx: CheckContext): Promise<DrillCheck[]> {
  const checks: DrillCheck[] = [];
  for (const artifact of ctx.artifacts) {
    if (artifact.details.type === 'archive') await checkArchive(ctx, artifact, artifact.details, checks);
  }
  return checks;
}

/** The `files` source: a folder packed as a `.tar.gz` with a per-file index, and its drill. */
export const filesPlugin: SourcePlugin<FilesSource> = { kind: 'files', inspect, capture, check };
