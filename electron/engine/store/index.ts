import path from 'node:path';
import { LocalFolderStore } from './local-folder.js';
import type { SetStore } from './types.js';

export type { LinkOutcome, NewArtifactFile, PartialSet, SealedSet, SetStore, StoreDisk, StoreListing, StoreSpace } from './types.js';
export type { HeldLock, LockHolder } from './folder-lock.js';

/**
 * The store of a backup location, as an environment names it: the one place a location string
 * becomes something sets are read from and written to. Today every location is a local folder.
 */
export function openStore(location: string): SetStore {
  return new LocalFolderStore(location);
}

/**
 * Where a set the catalog recorded lives: its store's location and its id. The catalog records a
 * local set by its folder, `<location>/<id>`; a set of a former location is still found there.
 */
export function whereIsSet(recorded: string): { location: string; id: string } {
  return { location: path.dirname(recorded), id: path.basename(recorded) };
}

/** The store and handle of a set the catalog recorded. */
export function recordedSet(recorded: string): { store: SetStore; set: ReturnType<SetStore['set']> } {
  const { location, id } = whereIsSet(recorded);
  const store = openStore(location);
  return { store, set: store.set(id) };
}
