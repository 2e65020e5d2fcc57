import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import type { DrillCheck } from '../../../../shared/drill.js';
import type { FilesSource } from '../../../../shared/environment.js';
import type { Artifact, ArchiveDetails } from '../../../../shared/manifest.js';
import { cancelled, fsError, LifeboatError, throwIfAborted } from '../../errors.js';
import { timedCheck } from '../../checks.js';
import { Selection, type Globs } from './walk.js';
import { diffIndex, firstFew, readIndex, type IndexEntry, type IndexHeader, type Listing } from './file-index.js';
import type { RestoreContext } from '../common/types.js';

/** One entry found on disk under a folder; links are read, never followed. */
export interface TreeEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** Permission bits (`mode & 0o7777`), owner, group and modification time in ms, as lstat gives them. */
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  target?: string;
}

function typeOf(st: Stats): TreeEntry['type'] {
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
}

function readFailed(err: unknown, abs: string): LifeboatError {
  const known = fsError(err, abs, false);
  if (known) return known;
  return new LifeboatError('SOURCE_READ_FAILED', `Reading ${abs} failed: ${err instanceof Error ? err.message : String(err)}.`, 'Check the disk and the folder, then try again.');
}

/**
 * Lists everything under `root` (not `root` itself) depth-first, names sorted by code unit and a
 * folder before what it holds, as the backup's walk orders them. An entry that vanishes while
 * listed is left out; a name that is not valid UTF-8, or an unreadable folder, throws.
 */
export async function listTree(root: string, signal: AbortSignal): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  async function visit(rel: string): Promise<void> {
    const absDir = path.join(root, rel);
    const names = await fs.readdir(absDir).catch((err: unknown) => {
      throw readFailed(err, absDir);
    });
    for (const name of names.sort()) {
      throwIfAborted(signal);
      const at = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, at);
      let st: Stats;
      try {
        st = await fs.lstat(abs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw readFailed(err, abs);
        if (name.includes('\uFFFD'))
          throw new LifeboatError('SOURCE_UNREADABLE', `${abs} has a name that is not valid UTF-8, so Lifeboat cannot keep or compare it.`, 'Rename it with valid UTF-8 characters, then try again.');
        continue; // removed while we listed
      }
      const entry: TreeEntry = { path: at, type: typeOf(st), size: st.isFile() ? st.size : 0, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
      if (entry.type === 'symlink')
        entry.target = await fs.readlink(abs).catch((err: unknown) => {
          throw readFailed(err, abs);
        });
      out.push(entry);
      if (entry.type === 'dir') await visit(at);
    }
  }
  await visit('');
  return out;
}

/**
 * What a restore does with a live entry: `set` — the set holds that path and writes it;
 * `dropped` — the globs take it (or it lies under a path the set holds as a file or link) but the
 * set does not hold it, so it goes; `kept` — the globs do not take it, so it stays as it is.
 */
export type Role = 'set' | 'dropped' | 'kept';

export const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/**
 * Gives each live entry (in `listTree` order) its role. "Taken" follows the backup's walk
 * exactly: a file or link when the globs take it inside a folder the walk enters; a folder when
 * the globs take it or it holds something taken. A folder that holds a kept entry is kept.
 */
export function rolesOf(live: TreeEntry[], index: Map<string, IndexEntry>, globs: Globs): Map<string, Role> {
  const sel = new Selection(globs);
  const enters = new Map<string, boolean>([['', true]]);
  const taken = new Set<string>();
  const blocked = new Set<string>();
  for (const e of live) {
    const parent = parentOf(e.path);
    const inScope = enters.get(parent) === true;
    const setParent = index.get(parent);
    if (blocked.has(parent) || (setParent && setParent.type !== 'dir')) blocked.add(e.path);
    if (e.type === 'dir') {
      const open = inScope && !sel.excludes(e.path);
      enters.set(e.path, open && sel.mayHoldMatches(e.path));
      if (open && sel.takes(e.path)) taken.add(e.path);
    } else if (inScope && sel.takes(e.path)) {
      taken.add(e.path);
    }
  }
  const roles = new Map<string, Role>();
  const holdsKept = new Set<string>();
  for (let i = live.length - 1; i >= 0; i--) {
    const e = live[i] as TreeEntry; // i is in range
    const parent = parentOf(e.path);
    let role: Role;
    if (index.has(e.path)) role = 'set';
    else if (blocked.has(e.path)) role = 'dropped';
    else if (e.type === 'dir' && holdsKept.has(e.path)) role = 'kept';
    else role = taken.has(e.path) ? 'dropped' : 'kept';
    if (taken.has(e.path) && parent) taken.add(parent); // children come before their folder here
    if (role === 'kept') holdsKept.add(parent);
    roles.set(e.path, role);
  }
  return roles;
}

/** A listing of on-disk entries for `diffIndex`, with file hashes from `hashes` (a file without one cannot match). */
export function listingOf(entries: TreeEntry[], hashes: Map<string, { sha256: string }>): Listing {
  const listing: Listing = { files: new Map(), dirs: new Set(), links: new Map() };
  for (const e of entries) {
    if (e.type === 'dir') listing.dirs.add(e.path);
    else if (e.type === 'symlink') listing.links.set(e.path, e.target ?? '');
    else listing.files.set(e.path, { size: e.size, sha256: e.type === 'file' ? (hashes.get(e.path)?.sha256 ?? 'not hashed') : 'not a regular file' });
  }
  return listing;
}

/**
 * Pushes the three named proofs of a listing (of `where`) against its index — entries (nothing missing, extra
 * or of another kind), every file's size and SHA-256, every link's target — naming the first
 * paths that differ. Returns whether all three passed.
 */
export async function proveListing(checks: DrillCheck[], target: string, entries: IndexEntry[], listing: Listing, where: string): Promise<boolean> {
  const diff = diffIndex(entries, listing);
  const results = [
    await timedCheck(checks, target, 'entries match the index', async () => {
      const problems: string[] = [];
      if (diff.missing.length) problems.push(`${diff.missing.length} indexed but not in ${where}: ${firstFew(diff.missing)}`);
      if (diff.extra.length) problems.push(`${diff.extra.length} in ${where} but not in the index: ${firstFew(diff.extra)}`);
      if (diff.wrongType.length) problems.push(`${diff.wrongType.length} of another kind: ${firstFew(diff.wrongType)}`);
      if (problems.length) throw new Error(problems.join('; '));
      return `${entries.length} entries, none missing, none extra`;
    }),
    await timedCheck(checks, target, "every file's SHA-256 matches the index", async () => {
      if (diff.wrongContent.length) throw new Error(`${diff.wrongContent.length} files differ from the index: ${firstFew(diff.wrongContent)}`);
      return `${listing.files.size} files hashed, sizes and SHA-256 all as indexed`;
    }),
    await timedCheck(checks, target, 'links as recorded', async () => {
      if (diff.wrongTarget.length) throw new Error(`${diff.wrongTarget.length} links differ from the index: ${firstFew(diff.wrongTarget)}`);
      return `${listing.links.size} links, targets as indexed`;
    }),
  ];
  return results.every(Boolean);
}

/** The set's side of a restore: its archive and the index of what the archive holds. */
export interface SetData {
  archive: Artifact;
  details: ArchiveDetails;
  /** The index's first line: the folder's own owner and mode, when the set records them. */
  header: IndexHeader;
  entries: IndexEntry[];
  index: Map<string, IndexEntry>;
}

/** Reads the set's archive artifact and its index; NOT_A_SET when either is missing or unreadable. */
export async function loadSet(ctx: RestoreContext<FilesSource>): Promise<SetData> {
  const archive = ctx.artifacts.find((a) => a.details.type === 'archive');
  if (archive?.details.type !== 'archive') throw new LifeboatError('NOT_A_SET', `The set records no archive for source "${ctx.source.name}".`, 'The manifest is incomplete; use another set.');
  const details = archive.details;
  try {
    const indexArtifact = ctx.artifacts.find((a) => a.file === details.indexFile && a.details.type === 'file-index');
    if (!indexArtifact) throw new Error('the manifest does not list it');
    const { header, entries } = await readIndex(ctx.reader, indexArtifact, ctx.signal);
    return { archive, details, header, entries, index: new Map(entries.map((e) => [e.path, e])) };
  } catch (err) {
    if (ctx.signal.aborted) throw cancelled();
    const why = err instanceof Error ? err.message : String(err);
    throw new LifeboatError('NOT_A_SET', `The index ${details.indexFile} of source "${ctx.source.name}" cannot be read: ${why}.`, 'Run a drill on this set; restore another set if it fails.');
  }
}

/** Whether a folder is at `target` (false when nothing is); anything else there is refused. */
export async function folderAt(target: string, source: string): Promise<boolean> {
  const st = await fs.lstat(target).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, target, false) ?? err;
  });
  if (!st) return false;
  if (!st.isDirectory())
    throw new LifeboatError('SOURCE_NOT_FOLDER', `${target} is not a folder (a restore of source "${source}" writes a folder there).`, 'Move it aside, or restore into another folder.');
  return true;
}
