import picomatch from 'picomatch';
import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { fsError, LifeboatError, throwIfAborted } from '../../errors.js';
import { noteProgress } from '../../watchdog.js';

/** One entry a walk takes: its path under the root ('/' separators), its kind and, for a file, its size. */
export interface WalkEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
}

/** A source's globs, relative to its folder ('/' separators). */
export interface Globs {
  include: string[];
  exclude: string[];
}

type Matcher = (s: string) => boolean;

/** Braces, extglobs and negations may span folders; a folder is always entered for them. */
const COMPLEX = /^!|[{}()]/;

/**
 * Which relative paths the globs take (picomatch, `dot: true`): a file or link is taken when it
 * matches one include and no exclude. An exclude that matches a folder excludes all inside it.
 */
export class Selection {
  private readonly include: Matcher;
  private readonly exclude: Matcher;
  private readonly patterns: { complex: boolean; segments: Matcher[]; globstar: boolean[] }[];

  constructor(globs: Globs) {
    const opts = { dot: true };
    this.include = picomatch(globs.include, opts);
    this.exclude = globs.exclude.length ? picomatch(globs.exclude, opts) : () => false;
    this.patterns = globs.include.map((glob) => {
      const segs = glob.replace(/^(\.\/)+/, '').split('/');
      return { complex: COMPLEX.test(glob), segments: segs.map((s) => picomatch(s, opts)), globstar: segs.map((s) => s === '**') };
    });
  }

  takes(rel: string): boolean {
    return this.include(rel) && !this.exclude(rel);
  }

  excludes(rel: string): boolean {
    return this.exclude(rel);
  }

  /** Whether some include glob could match an entry below the folder `rel` (so it is worth entering). */
  mayHoldMatches(rel: string): boolean {
    const dirs = rel.split('/');
    return this.patterns.some(({ complex, segments, globstar }) => {
      if (complex) return true;
      for (let i = 0; i < dirs.length; i++) {
        if (globstar[i]) return true;
        const seg = segments[i];
        // The glob's last segment names the entry itself, so a folder this deep cannot hold a match.
        if (!seg || i === segments.length - 1 || !seg(dirs[i] ?? '')) return false;
      }
      return segments.length > dirs.length;
    });
  }
}

function kindOf(st: Stats): string {
  if (st.isSocket()) return 'a socket';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device';
  return 'a special file';
}

function readError(err: unknown, abs: string, name: string): LifeboatError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' && name.includes('\uFFFD')) {
    return new LifeboatError(
      'SOURCE_UNREADABLE',
      `${abs} has a name that is not valid UTF-8, so it cannot be stored by name.`,
      'Rename it with valid UTF-8 characters, or exclude it from the source.',
    );
  }
  const known = fsError(err, abs, false);
  if (known) return known;
  const message = err instanceof Error ? err.message : String(err);
  return new LifeboatError('SOURCE_READ_FAILED', `Reading ${abs} failed: ${message}.`, 'Check the disk and the folder, then back up again.');
}

/** Names that `tar` readers (node-tar in the drill) would change on the way out, so a restore could not match. */
function unstorable(rel: string): string | undefined {
  if (/[\n\r]/.test(rel)) return 'has a line break in its name';
  if (/^[A-Za-z]:/.test(rel)) return 'starts with a drive-like prefix ("X:") that tar readers strip';
  return undefined;
}

/**
 * Walks `root` depth-first in a fixed order (names sorted by code unit, a folder before what it
 * holds) and returns what the globs take. Symbolic links are returned as links and never
 * followed. A folder is listed when the globs take it or it holds something taken, so empty
 * folders survive; folders that cannot hold a match are not entered. Anything unreadable on the
 * way, or a socket, FIFO or device the globs take, stops the walk with an error naming it.
 */
export async function walk(root: string, globs: Globs, source: string, signal?: AbortSignal): Promise<WalkEntry[]> {
  const sel = new Selection(globs);
  const refuse = (abs: string, rel: string, what: string) =>
    new LifeboatError(
      'SOURCE_UNREADABLE',
      `${abs} ${what}; Lifeboat backs up regular files, folders and symbolic links only.`,
      `Add "${rel}" to the exclude globs of source "${source}" (or rename it), then back up again.`,
    );

  async function visit(relDir: string, absDir: string, out: WalkEntry[]): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(absDir);
    } catch (err) {
      throw readError(err, absDir, path.basename(absDir));
    }
    noteProgress(); // a folder listed is progress: a large tree counts before any byte is packed
    names.sort();
    for (const name of names) {
      throwIfAborted(signal);
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = path.join(absDir, name);
      let st: Stats;
      try {
        st = await fs.lstat(abs);
      } catch (err) {
        throw readError(err, abs, name);
      }
      if (st.isDirectory()) {
        if (sel.excludes(rel)) continue;
        const at = out.length;
        out.push({ path: rel, type: 'dir', size: 0 });
        if (sel.mayHoldMatches(rel)) await visit(rel, abs, out);
        if (out.length === at + 1 && !sel.takes(rel)) {
          out.pop();
          continue;
        }
        const bad = unstorable(rel);
        if (bad) throw refuse(abs, rel, bad);
        continue;
      }
      if (!sel.takes(rel)) continue;
      if (!st.isFile() && !st.isSymbolicLink()) throw refuse(abs, rel, `is ${kindOf(st)}`);
      const bad = unstorable(rel);
      if (bad) throw refuse(abs, rel, bad);
      if (st.isFile()) {
        try {
          await fs.access(abs, constants.R_OK);
        } catch (err) {
          throw readError(err, abs, name);
        }
      }
      out.push({ path: rel, type: st.isFile() ? 'file' : 'symlink', size: st.isFile() ? st.size : 0 });
    }
  }

  const out: WalkEntry[] = [];
  await visit('', root, out);
  // Walk order puts a folder before what it holds, so the first entry too deep is the shallowest.
  const tooDeep = out.find((e) => tarDepth(e) > MAX_TAR_DEPTH);
  if (tooDeep) throw deepRefusal(root, tooDeep, source);
  return out;
}

/**
 * The most parts an archive entry's name may have: node-tar, which the drill and the restore
 * extract with, refuses deeper entries (its `maxDepth`, 1,024 by default, a guard against
 * archives that exhaust memory). Lifting it would not make deep trees restorable in practice:
 * node-tar creates each folder component by component, so the time grows with the cube of the depth.
 */
export const MAX_TAR_DEPTH = 1024;

/** Parts of an entry's name in the archive: a folder's name ends in `/`, which node-tar counts as one more. */
const tarDepth = (e: WalkEntry) => e.path.split('/').length + (e.type === 'dir' ? 1 : 0);

function deepRefusal(root: string, e: WalkEntry, source: string): LifeboatError {
  const levels = e.path.split('/').length;
  const what = e.type === 'dir' ? 'a folder' : e.type === 'file' ? 'a file' : 'a link';
  return new LifeboatError(
    'SOURCE_TOO_DEEP',
    `${path.join(root, e.path)} is ${what} ${levels} levels below the folder of source "${source}"; a set holds folders at most ${MAX_TAR_DEPTH - 1} levels deep and files and links at most ${MAX_TAR_DEPTH}, the deepest entries the tar reader that drills and restores it accepts. Nothing was written.`,
    `Exclude that folder (an exclude that matches a folder excludes all inside it), or make the deep part a source of its own whose folder lies lower, then back up again.`,
  );
}
