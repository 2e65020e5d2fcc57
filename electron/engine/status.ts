import { environmentKey, type Environment } from '../../shared/environment.js';
import type { EnvironmentStatus } from '../../shared/status.js';
import type { Catalog } from './catalog.js';
import { assess } from './monitoring.js';
import { openStore } from './store/index.js';

/** Gathers one environment's inputs from the catalog and its store, and judges them. */
export async function statusOf(catalog: Catalog, env: Environment, now: Date): Promise<EnvironmentStatus> {
  const key = environmentKey(env);
  const { space, missing } = await openStore(env.location).space();
  return assess({ env, sets: catalog.sets(key), lastAttempt: catalog.latestActivity(key, 'backup'), space, locationMissing: missing, now });
}
