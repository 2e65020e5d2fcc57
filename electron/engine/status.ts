import { promises as fs } from 'node:fs';
import path from 'node:path';
import { environmentKey, type Environment } from '../../shared/environment.js';
import type { EnvironmentStatus } from '../../shared/status.js';
import type { Catalog } from './catalog.js';
import { assess } from './monitoring.js';

/**
 * Measures the disk of a location. A location that does not exist yet (no backup made) is
 * measured at its nearest existing parent, and said to be missing.
 */
export async function spaceOf(location: string): Promise<{ space: { freeBytes: number; totalBytes: number } | null; missing: boolean }> {
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

/** Gathers one environment's inputs from the catalog and its disk, and judges them. */
export async function statusOf(catalog: Catalog, env: Environment, now: Date): Promise<EnvironmentStatus> {
  const key = environmentKey(env);
  const { space, missing } = await spaceOf(env.location);
  return assess({ env, sets: catalog.sets(key), lastAttempt: catalog.latestActivity(key, 'backup'), space, locationMissing: missing, now });
}
