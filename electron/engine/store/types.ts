import type { Readable, Writable } from 'node:stream';
import type { Manifest } from '../../../shared/manifest.js';
import type { DeletedSet } from '../../../shared/retention.js';
import type { ManifestRead } from '../manifest.js';
import type { HeldLock, LockHolder } from './folder-lock.js';

/**
 * What a store holds, by set id: sealed sets, sets still being written (or left by a killed run),
 * sets hidden for removal, and pin markers. Names of every environment: callers pick theirs with
 * `isSetOf`. Only names: nothing here says a sealed set's manifest is readable.
 */
export interface StoreListing {
  /** Entries named like a set id (`SET_ID_PATTERN`). */
  sealed: string[];
  /** Ids of sets being written, or left by a killed backup. */
  partial: string[];
  /** Ids of sets hidden for removal whose removal may have been cut short. */
  deleting: string[];
  /** Ids that carry a pin marker. */
  pinned: string[];
}

/** A new artifact file, created exclusively; `commit()` makes it durable, `abort()` removes it (the codec's `ArtifactFiles.create`). */
export interface NewArtifactFile {
  stream: Writable;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Reads artifact files of a set as stored (compressed/encrypted): the codec's `ArtifactFiles.open`. */
export interface ArtifactReader {
  open(file: string, opts?: { start?: number; signal?: AbortSignal }): Readable;
  /** Where the file lies on this machine, for a program that must be given a path (pg_restore); a remote store has none. */
  localPath?(file: string): string;
}

/** A sealed set in a store. Getting a handle does no I/O; each call asks the store. */
export interface SealedSet extends ArtifactReader {
  readonly id: string;
  /**
   * Internal, for the codec seam only: the set's folder, which the catalog records and source
   * plug-ins are still handed (until the codec reads through `open`). Nothing else builds paths from it.
   */
  readonly dir: string;
  /** Its `manifest.json`, parsed and checked; a damaged one is described, never thrown. */
  readManifest(): Promise<ManifestRead>;
  /** What removing it frees: the bytes of every stored file of the set. */
  bytes(): Promise<number>;
  /** A digest of every stored byte and name of the set: equal digests, equal sets. */
  fingerprint(signal?: AbortSignal): Promise<string>;
}

/** How linking an artifact from another set went: a hard link shares the bytes, a copy has its own. */
export type LinkOutcome = 'linked' | 'copied';

/** What sealing writes beside the artifacts, and a hook for fault tests between the manifest and the seal. */
export interface SealContent {
  manifest: Manifest;
  /** The recovery card's bytes (RESTORE.txt), as the manifest records them. */
  card: Uint8Array;
  /** Runs after every file is durable and before the set appears (fault tests freeze a run there). */
  beforeSeal?: () => Promise<void>;
}

/** A set being written: invisible as a sealed set until `seal`, gone after `discard`. */
export interface PartialSet extends ArtifactReader {
  readonly id: string;
  /** Internal, for the codec seam only: the folder source plug-ins still write their artifacts into. */
  readonly dir: string;
  /** Internal: a scratch folder inside the partial set for plug-ins' temporary files, removed by `dropScratch`. */
  readonly scratch: string;
  create(file: string): Promise<NewArtifactFile>;
  /** Takes an artifact file of a sealed set as it is: a hard link where the store can, else a durable copy. */
  linkFrom(from: SealedSet, file: string, as?: string): Promise<LinkOutcome>;
  /** Removes the scratch folder (before the set is sealed). */
  dropScratch(): Promise<void>;
  /**
   * Writes SHA256SUMS, the recovery card and manifest.json, makes everything durable, then makes
   * the set appear whole under its id. After a crash at any point it is sealed or not at all.
   */
  seal(content: SealContent): Promise<SealedSet>;
  /** Removes the partial set and all it holds. */
  discard(): Promise<void>;
}

/** Free space where new sets go; `missing` when the location itself is not there (measured at its nearest parent). */
export interface StoreSpace {
  space: { freeBytes: number; totalBytes: number } | null;
  missing: boolean;
}

/** The disk a new set would be written to: `device` compares with other local paths (null: shares none). */
export interface StoreDisk {
  at: string;
  device: number | null;
  freeBytes: number;
}

/**
 * Everything the engine does with a backup location. The local folder is the first
 * implementation; a remote store implements the same and passes the same contract suite
 * (test/integration/store-contract.test.ts). Errors a caller must tell apart carry an errno-style
 * `code` (e.g. `ENOENT` from `list` when the location is not there).
 */
export interface SetStore {
  /** The location as the environment names it, for messages. */
  readonly location: string;
  /** Refuses a location that cannot hold backups (LifeboatError), then creates it. */
  prepare(): Promise<void>;
  /** What the location holds; throws (with `code`) when it cannot be listed, never answers "empty" for that. */
  list(): Promise<StoreListing>;
  /** Whether a set by this id is there (sealed, whether or not its manifest is readable). */
  has(id: string): Promise<boolean>;
  /** The handle of a sealed set (no I/O). */
  set(id: string): SealedSet;
  /** Starts a new set under `id`, hidden until sealed. */
  createPartial(id: string): Promise<PartialSet>;
  /** Removes partial sets of killed runs whose ids `belongs` accepts; says what it removed. The caller holds the lock. */
  cleanPartials(belongs: (id: string) => boolean): Promise<string[]>;
  /** Finishes removals that were cut short, of ids `belongs` accepts; says what it removed. The caller holds the lock. */
  cleanDeletions(belongs: (id: string) => boolean): Promise<string[]>;
  /**
   * Removes a sealed set: hidden first, so a crash never leaves half a set that looks whole. The
   * caller holds the lock. `afterHide` runs once it is hidden (fault tests stop a removal there).
   */
  remove(id: string, hooks?: { afterHide?: () => Promise<void> }): Promise<DeletedSet>;
  isPinned(id: string): Promise<boolean>;
  /** Writes or removes a set's pin, durably; the sealed set itself is never changed. */
  pin(id: string, pinned: boolean, door: string): Promise<void>;
  /** The environment's lock: one holder at a time across processes, released by the kernel if its holder dies. */
  lock(envKey: string, holder: Omit<LockHolder, 'pid' | 'host' | 'startedAt'>): Promise<HeldLock>;
  /** Free and total space where sets go, for health. */
  space(): Promise<StoreSpace>;
  /** The disk a new set would be written to, for a restore's free-space check. */
  disk(): Promise<StoreDisk>;
}
