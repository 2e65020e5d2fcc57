import type { SetSummary } from '../../shared/api.js';
import { environmentKey, type Environment } from '../../shared/environment.js';
import { count } from '../../shared/format.js';
import type { Catalog } from './catalog.js';
import { LifeboatError } from './errors.js';
import { isSetOf, SET_ID_PATTERN } from './set-id.js';
import { openStore, recordedSet, whereIsSet, type SealedSet, type StoreListing } from './store/index.js';
import { noteProgress } from './watchdog.js';

/** Resolves `prod` (when unique) or `app/prod` to one environment. */
export function resolveEnvironment(catalog: Catalog, ref: string): Environment {
  const found = catalog.findEnvironments(ref);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    const known = catalog.environments().map(environmentKey);
    throw new LifeboatError(
      'UNKNOWN_ENVIRONMENT',
      `There is no environment "${ref}".`,
      known.length ? `Known environments: ${known.join(', ')}.` : 'Import one first: lifeboat env import FILE (or run `lifeboat catalog rebuild --location DIR` to adopt an existing backup folder).',
    );
  }
  throw new LifeboatError(
    'AMBIGUOUS_ENVIRONMENT',
    `"${ref}" names ${found.length} environments: ${found.map(environmentKey).join(', ')}.`,
    `Name it with its app: --env ${environmentKey(found[0]!)}.`,
  );
}

/**
 * Brings the catalog's index of one environment's sets in line with its backup folders. The
 * current location is rescanned whole. A location the environment had before is a place its
 * older sets still are: they stay listed there (a set removed from it is forgotten, a set moved
 * into the current location is found there) until the operator removes or moves them.
 */
export async function syncSets(catalog: Catalog, env: Environment): Promise<{ added: number; removed: number; unreadable: { path: string; message: string }[] }> {
  const key = environmentKey(env);
  const store = openStore(env.location);
  const mine = (id: string) => isSetOf(id, env.app, env.name);
  const here = new Set<string>();
  const elsewhere = new Map<string, SetSummary[]>();
  for (const set of catalog.sets(key)) {
    const { location } = whereIsSet(set.path);
    if (location === env.location) here.add(set.id);
    else elsewhere.set(location, [...(elsewhere.get(location) ?? []), set]);
  }
  let names: string[];
  let listing: StoreListing | undefined;
  try {
    listing = await store.list();
    names = listing.sealed.filter(mine);
  } catch (err) {
    // A missing folder is "no sets yet" only while none were recorded there: an unmounted disk is
    // not an empty one, and forgetting its sets would turn "location missing" into "no backup yet".
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && here.size === 0) names = [];
    else {
      throw new LifeboatError(
        'LOCATION_UNREADABLE',
        `The backup location ${env.location} cannot be listed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})${here.size ? `, though ${count(here.size, 'set')} ${here.size === 1 ? 'was' : 'were'} recorded there` : ''}.`,
        'Mount the disk that holds it (or fix its permissions) and look again; if the sets were moved, point the environment at their new folder. Nothing was changed.',
      );
    }
  }
  let added = 0;
  const found = new Set<string>();
  const unreadable: { path: string; message: string }[] = [];
  for (const name of names) {
    found.add(name);
    if (here.delete(name)) continue;
    const set = store.set(name);
    const read = await set.readManifest();
    noteProgress();
    if (!read.ok) {
      unreadable.push({ path: set.dir, message: read.error.message });
      continue;
    }
    // Also a set recorded in an earlier location and moved here: its path is now this one.
    catalog.upsertSet(read.manifest, set.dir, await set.bytes());
    added++;
  }
  for (const gone of here) catalog.removeSet(gone);
  let removed = here.size;
  const pinned = new Set((listing?.pinned ?? []).filter(mine));
  for (const [location, sets] of elsewhere) {
    const old = await openStore(location)
      .list()
      .catch(() => null);
    for (const set of sets) {
      if (found.has(set.id)) continue; // moved into the current location
      if (!old) {
        if (set.pinned) pinned.add(set.id); // a disk that is not there keeps its sets and pins
      } else if (!old.sealed.includes(set.id)) {
        catalog.removeSet(set.id);
        removed++;
      }
    }
    if (old) for (const id of old.pinned.filter(mine)) if (sets.some((s) => s.id === id)) pinned.add(id);
  }
  catalog.setPins(key, pinned);
  return { added, removed, unreadable };
}

/** A sealed set by id, or the newest one when no id is given, in the store it is recorded in. */
export async function findSet(catalog: Catalog, env: Environment, id: string | undefined): Promise<SealedSet> {
  await syncSets(catalog, env);
  const sets = catalog.sets(environmentKey(env));
  if (!id || id === 'latest') {
    if (!sets[0]) throw new LifeboatError('NO_SETS', `${environmentKey(env)} has no backup sets in ${env.location}.`, `Make one first: lifeboat backup --env ${env.name}.`);
    return recordedSet(sets[0].path).set;
  }
  if (!SET_ID_PATTERN.test(id) || !isSetOf(id, env.app, env.name)) {
    throw new LifeboatError(
      'UNKNOWN_SET',
      `"${id}" is not a set id of ${environmentKey(env)}.`,
      `Set ids look like ${env.app}_${env.name}_20261122_020000; list them with: lifeboat list --env ${env.name}.`,
    );
  }
  const found = sets.find((s) => s.id === id);
  if (found) return recordedSet(found.path).set;
  // Not indexed: maybe unreadable; the drill will say why.
  const store = openStore(env.location);
  if (await store.has(id)) return store.set(id);
  throw new LifeboatError('UNKNOWN_SET', `There is no set ${id} in ${env.location}.`, `List the sets with: lifeboat list --env ${env.name}.`);
}

/**
 * The environments recorded in the newest readable manifest of each app/env found in a folder:
 * how a new workstation adopts an old backup folder.
 */
export async function environmentsIn(location: string, unreadable: { path: string; message: string }[]): Promise<Environment[]> {
  const store = openStore(location);
  let names: string[];
  try {
    names = (await store.list()).sealed;
  } catch (err) {
    throw new LifeboatError('BAD_ARGUMENT', `${location} cannot be listed: ${(err as Error).message}.`, "Give the folder that holds the backup sets (the environment's location).");
  }
  const newest = new Map<string, { stamp: string; env: Environment }>();
  for (const name of names.sort()) {
    const set = store.set(name);
    const read = await set.readManifest();
    if (!read.ok) {
      unreadable.push({ path: set.dir, message: read.error.message });
      continue;
    }
    const env = { ...read.manifest.environment, location };
    newest.set(environmentKey(env), { stamp: read.manifest.startedAt, env });
  }
  return [...newest.values()].map((v) => v.env);
}
