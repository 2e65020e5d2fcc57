import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsyncDir, writeFileAtomic } from '../durable.js';
import { isSetOf } from '../set-id.js';

/**
 * A pin is a small hidden file beside the set in its location, `.lifeboat-pin-<set id>`: the
 * location stays the truth (a rescan finds every pin), the sealed set is never changed, and the
 * drill never sees a file it does not expect.
 */
export const PIN_PREFIX = '.lifeboat-pin-';

export function pinFile(location: string, setId: string): string {
  return path.join(location, PIN_PREFIX + setId);
}

/** The ids of this environment's pinned sets, from a listing of its location. */
export function pinnedIn(names: readonly string[], app: string, env: string): Set<string> {
  return new Set(
    names
      .filter((n) => n.startsWith(PIN_PREFIX))
      .map((n) => n.slice(PIN_PREFIX.length))
      .filter((id) => isSetOf(id, app, env)),
  );
}

/** Writes or removes a set's pin marker, durably (the folder entry is fsynced either way). */
export async function writePin(location: string, setId: string, pinned: boolean, door: string): Promise<void> {
  const file = pinFile(location, setId);
  if (pinned) {
    await writeFileAtomic(file, `${JSON.stringify({ set: setId, pinnedAt: new Date().toISOString(), door })}\n`);
  } else {
    await fs.rm(file, { force: true });
    await fsyncDir(location);
  }
}
