import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DeletedSet } from '../../../shared/retention.js';
import { fsyncDir } from '../durable.js';
import { fsError, LifeboatError } from '../errors.js';
import { isSetOf } from '../set-id.js';
import { setFolderBytes } from './set-size.js';
import { noteProgress } from '../watchdog.js';

/**
 * A set being deleted is first renamed to `.deleting-<id>`: from that instant it no longer looks
 * like a set to anyone (rescans, drills, restores), so a deletion cut short by a crash never
 * leaves a half-deleted set that looks whole. The next deletion, prune or backup removes the rest.
 */
export const DELETING_PREFIX = '.deleting-';

/** A hook for fault tests: runs once the set is hidden and before its bytes are removed. */
export interface RemovalHooks {
  afterHide?: () => Promise<void>;
}

/** Removes one set folder: hide it by a rename, fsync, then delete the hidden folder. The caller holds the lock. */
export async function removeSetFolder(location: string, setId: string, hooks: RemovalHooks = {}): Promise<DeletedSet> {
  const dir = path.join(location, setId);
  const hidden = path.join(location, DELETING_PREFIX + setId);
  try {
    const sizeBytes = await setFolderBytes(dir);
    await fs.rename(dir, hidden);
    await fsyncDir(location);
    await hooks.afterHide?.();
    await fs.rm(hidden, { recursive: true, force: true });
    await fsyncDir(location);
    noteProgress();
    return { id: setId, path: dir, sizeBytes };
  } catch (err) {
    throw (
      fsError(err, dir, true) ??
      new LifeboatError(
        'WRITE_FAILED',
        `${setId} could not be deleted: ${(err as Error).message}.`,
        'Check the permissions of the backup location; a set that was hidden but not removed is cleaned up by the next prune or backup.',
      )
    );
  }
}

/** Removes what interrupted deletions of this environment left; the caller holds the lock. */
export async function cleanDeletions(location: string, app: string, env: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(location);
  } catch {
    return [];
  }
  const cleaned: string[] = [];
  for (const name of names) {
    if (!name.startsWith(DELETING_PREFIX) || !isSetOf(name.slice(DELETING_PREFIX.length), app, env)) continue;
    await fs.rm(path.join(location, name), { recursive: true, force: true });
    cleaned.push(`the rest of ${name.slice(DELETING_PREFIX.length)}, whose deletion was interrupted`);
  }
  return cleaned;
}
