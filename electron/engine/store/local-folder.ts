import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { CARD_FILE } from '../../../shared/manifest.js';
import type { DeletedSet } from '../../../shared/retention.js';
import { fsyncDir, fsyncFile, makeFolders, writeNewFile } from '../durable.js';
import { fsError, LifeboatError } from '../errors.js';
import { checksumList, readManifest, type ManifestRead } from '../manifest.js';
import { PARTIAL_PREFIX, SET_ID_PATTERN } from '../set-id.js';
import { acquireLock, type HeldLock, type LockHolder } from './folder-lock.js';
import { probeLocation, virtualPlace, type LocationProblem } from './location-probe.js';
import { PIN_PREFIX, pinFile, writePin } from './pins.js';
import { DELETING_PREFIX, removeSetFolder, type RemovalHooks } from './set-removal.js';
import { setFingerprint } from './set-fingerprint.js';
import { setFolderBytes } from './set-size.js';
import type { ArtifactFiles } from '../codec/artifact-files.js';
import { folderArtifacts } from './artifact-files.js';
import type { LinkOutcome, NewArtifactFile, PartialSet, SealContent, SealedSet, SetStore, StoreDisk, StoreListing, StoreSpace } from './types.js';

/** An artifact's name inside its set: one plain name, never a path that leaves the set's folder. */
function fileIn(dir: string, file: string): string {
  if (!file || file === '.' || file === '..' || file.includes('/') || file.includes('\0')) {
    throw new LifeboatError('BAD_ARGUMENT', `"${file}" is not the name of a file in a set.`, 'Artifact files are plain names inside their set.');
  }
  return path.join(dir, file);
}

/** The artifact files of a set folder, each name checked to stay inside it. */
function filesIn(dir: string): Required<ArtifactFiles> {
  const files = folderArtifacts(dir);
  return {
    async create(file) {
      fileIn(dir, file);
      return files.create(file);
    },
    open(file, opts) {
      fileIn(dir, file);
      return files.open(file, opts);
    },
    localPath: (file) => fileIn(dir, file),
  };
}

class LocalSealedSet implements SealedSet {
  constructor(
    readonly id: string,
    readonly dir: string,
  ) {}
  readManifest(): Promise<ManifestRead> {
    return readManifest(this.dir);
  }
  bytes(): Promise<number> {
    return setFolderBytes(this.dir);
  }
  fingerprint(signal?: AbortSignal): Promise<string> {
    return setFingerprint(this.dir, signal);
  }
  open(file: string, opts?: { start?: number; signal?: AbortSignal }) {
    return filesIn(this.dir).open(file, opts);
  }
  localPath(file: string): string {
    return filesIn(this.dir).localPath(file);
  }
}

/** Errors of a hard link that a copy gets round: another disk, a filesystem without links, too many links. */
const COPY_INSTEAD = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

class LocalPartialSet implements PartialSet {
  private state: 'open' | 'sealed' | 'discarded' = 'open';
  readonly scratch: string;
  constructor(
    private readonly store: LocalFolderStore,
    readonly id: string,
    readonly dir: string,
  ) {
    this.scratch = path.join(dir, '.scratch');
  }
  create(file: string): Promise<NewArtifactFile> {
    return filesIn(this.dir).create(file);
  }
  open(file: string, opts?: { start?: number; signal?: AbortSignal }) {
    return filesIn(this.dir).open(file, opts);
  }
  localPath(file: string): string {
    return filesIn(this.dir).localPath(file);
  }
  async linkFrom(from: SealedSet, file: string, as = file): Promise<LinkOutcome> {
    const source = fileIn(from.dir, file);
    const target = fileIn(this.dir, as);
    try {
      await fs.link(source, target);
      return 'linked';
    } catch (err) {
      if (!COPY_INSTEAD.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
    await fs.copyFile(source, target, constants.COPYFILE_EXCL);
    await fsyncFile(target);
    return 'copied';
  }
  async dropScratch(): Promise<void> {
    await fs.rm(this.scratch, { recursive: true, force: true });
  }
  async seal(content: SealContent): Promise<SealedSet> {
    if (this.state !== 'open') throw new Error(`The partial set ${this.id} is ${this.state}.`);
    const { manifest, card } = content;
    // SHA256SUMS lists the card after the artifacts, so `sha256sum -c` checks every file but the manifest.
    await writeNewFile(path.join(this.dir, 'SHA256SUMS'), checksumList(manifest));
    await writeNewFile(path.join(this.dir, CARD_FILE), card);
    await writeNewFile(path.join(this.dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await fsyncDir(this.dir);
    await content.beforeSeal?.();
    const final = path.join(this.store.location, this.id);
    await fs.rename(this.dir, final);
    this.state = 'sealed';
    await fsyncDir(this.store.location);
    return this.store.set(this.id);
  }
  async discard(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'discarded';
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A backup location that is a folder on a local (or mounted) disk. Layout (docs/FORMAT.md): one
 * folder per sealed set named by its id; `.partial-{id}` while it is written; `.deleting-{id}`
 * while it is removed; `.lifeboat-pin-{id}` beside a pinned set; `.lifeboat-{app}_{env}.lock` and
 * `.holder` for the environment's lock.
 */
export class LocalFolderStore implements SetStore {
  constructor(readonly location: string) {}

  /**
   * Refuses a location that cannot hold backups, then creates it: a location can go bad after it
   * was imported (a disk remounted read-only, full, or a path under /proc saved by hand).
   */
  async prepare(): Promise<void> {
    const location = this.location;
    const refuse = (p: LocationProblem) => new LifeboatError(p.code, `The backup location ${p.message}.`, `${p.hint} Nothing was written.`);
    const virtual = virtualPlace(location);
    if (virtual) throw refuse(virtual);
    try {
      await makeFolders(location, 0o700);
    } catch (err) {
      throw (
        fsError(err, location, true) ??
        new LifeboatError(
          'LOCATION_UNWRITABLE',
          `The backup location ${location} cannot be created: ${(err as Error).message}.`,
          'Choose a location on a writable disk that the user running Lifeboat owns.',
        )
      );
    }
    const verdict = await probeLocation(location);
    if (!verdict.ok) throw refuse(verdict.problem);
  }

  async list(): Promise<StoreListing> {
    const names = await fs.readdir(this.location);
    const prefixed = (prefix: string) => names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
    return { sealed: names.filter((n) => SET_ID_PATTERN.test(n)), partial: prefixed(PARTIAL_PREFIX), deleting: prefixed(DELETING_PREFIX), pinned: prefixed(PIN_PREFIX) };
  }

  async has(id: string): Promise<boolean> {
    return fs.stat(path.join(this.location, id)).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  set(id: string): SealedSet {
    return new LocalSealedSet(id, path.join(this.location, id));
  }

  async createPartial(id: string): Promise<PartialSet> {
    const dir = path.join(this.location, PARTIAL_PREFIX + id);
    await fs.mkdir(dir, { mode: 0o700 });
    const partial = new LocalPartialSet(this, id, dir);
    try {
      await fs.mkdir(partial.scratch, { mode: 0o700 });
    } catch (err) {
      await partial.discard().catch(() => undefined);
      throw err;
    }
    return partial;
  }

  async cleanPartials(belongs: (id: string) => boolean): Promise<string[]> {
    const cleaned: string[] = [];
    for (const name of await fs.readdir(this.location)) {
      if (!name.startsWith(PARTIAL_PREFIX) || !belongs(name.slice(PARTIAL_PREFIX.length))) continue;
      await fs.rm(path.join(this.location, name), { recursive: true, force: true });
      cleaned.push(`partial folder ${name} of an interrupted backup`);
    }
    return cleaned;
  }

  /** Removes what interrupted deletions left; a location that cannot be listed has nothing to clean. */
  async cleanDeletions(belongs: (id: string) => boolean): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.location);
    } catch {
      return [];
    }
    const cleaned: string[] = [];
    for (const name of names) {
      if (!name.startsWith(DELETING_PREFIX) || !belongs(name.slice(DELETING_PREFIX.length))) continue;
      await fs.rm(path.join(this.location, name), { recursive: true, force: true });
      cleaned.push(`the rest of ${name.slice(DELETING_PREFIX.length)}, whose deletion was interrupted`);
    }
    return cleaned;
  }

  remove(id: string, hooks?: RemovalHooks): Promise<DeletedSet> {
    return removeSetFolder(this.location, id, hooks);
  }

  async isPinned(id: string): Promise<boolean> {
    return fs.stat(pinFile(this.location, id)).then(
      () => true,
      () => false,
    );
  }

  pin(id: string, pinned: boolean, door: string): Promise<void> {
    return writePin(this.location, id, pinned, door);
  }

  lock(envKey: string, holder: Omit<LockHolder, 'pid' | 'host' | 'startedAt'>): Promise<HeldLock> {
    return acquireLock(this.location, envKey, holder);
  }

  /**
   * Measures the disk of the location. A location that does not exist yet (no backup made) is
   * measured at its nearest existing parent, and said to be missing.
   */
  async space(): Promise<StoreSpace> {
    const location = this.location;
    let dir = location;
    let missing = false;
    for (;;) {
      try {
        const st = await fs.statfs(dir);
        if (dir === location) await fs.readdir(location);
        return { space: { freeBytes: st.bavail * st.bsize, totalBytes: st.blocks * st.bsize }, missing };
      } catch (err) {
        missing = true;
        const parent = path.dirname(dir);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) return { space: null, missing };
        dir = parent;
      }
    }
  }

  /** The nearest existing folder at or above the location, its device and free bytes. */
  async disk(): Promise<StoreDisk> {
    let dir = this.location;
    while (
      !(await fs.stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    ) {
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    const device = (await fs.stat(dir)).dev;
    const st = await fs.statfs(dir);
    return { at: dir, device, freeBytes: st.bavail * st.bsize };
  }
}
