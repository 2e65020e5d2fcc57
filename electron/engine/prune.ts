import { environmentKey, type Environment } from '../../shared/environment.js';
import { formatBytes } from '../../shared/format.js';
import type { DeletedSet, DeleteResult, PruneResult, RetentionDecision } from '../../shared/retention.js';
import type { Catalog } from './catalog.js';
import { requireConfirmation } from './confirmation.js';
import { refuseOverlap } from './environment-file.js';
import { LifeboatError, toErrorShape } from './errors.js';
import type { ActivityNote } from './handlers/types.js';
import { decideRetention, type RetentionSet } from './retention.js';
import { isSetOf, SET_ID_PATTERN } from './set-id.js';
import { openStore, recordedSet, type SetStore, type StoreListing } from './store/index.js';

export interface RemovalOptions {
  catalog: Catalog;
  door: string;
  /** The typed confirmation (see confirmation.ts): needed to delete anything of a protected environment. */
  confirm?: string;
}

export interface PruneOptions extends RemovalOptions {
  dryRun: boolean;
  now?: Date;
  /** Where a real prune's activity entry is described (the dispatch writes it); dry runs change nothing and are not logged. */
  log?: ActivityNote;
}

/** What the location holds; a location that cannot be listed is refused, never taken for an empty one. */
async function listLocation(env: Environment, store: SetStore): Promise<StoreListing> {
  try {
    return await store.list();
  } catch (err) {
    throw new LifeboatError(
      'LOCATION_UNREADABLE',
      `The backup location ${env.location} cannot be listed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}), so the prune cannot tell which sets exist.`,
      'Check that the disk is mounted and readable by this user, then prune again; nothing was deleted.',
    );
  }
}

/**
 * Every set in the location as the policy needs it. It refuses rather than guess: a location that
 * cannot be listed is not an empty one, and a set whose manifest cannot be read has no known time
 * or label, so the policy could keep the wrong ones.
 */
async function readSets(env: Environment, store: SetStore, catalog: Catalog): Promise<RetentionSet[]> {
  const listing = await listLocation(env, store);
  const mine = (id: string) => isSetOf(id, env.app, env.name);
  const pinned = new Set(listing.pinned.filter(mine));
  const sets: RetentionSet[] = [];
  const unreadable: string[] = [];
  for (const name of listing.sealed.filter(mine).sort()) {
    const set = store.set(name);
    const read = await set.readManifest();
    if (!read.ok) {
      unreadable.push(`${name}: ${read.error.message}`);
      continue;
    }
    const m = read.manifest;
    sets.push({ id: name, startedAt: m.startedAt, label: m.label, pinned: pinned.has(name), drillPassed: catalog.drillPassed(name), sizeBytes: await set.bytes() });
  }
  if (unreadable.length) {
    throw new LifeboatError(
      'SET_UNREADABLE',
      `The prune cannot read ${unreadable.length === 1 ? 'the manifest of a set' : `the manifests of ${unreadable.length} sets`}, so it cannot tell their times or labels:\n${unreadable.map((u) => `  ${u}`).join('\n')}`,
      `Drill or delete ${unreadable.length === 1 ? 'that set' : 'those sets'} (lifeboat delete --env ${env.name} --set ID), then prune again; nothing was deleted.`,
    );
  }
  return sets;
}

function summarize(env: Environment, decisions: RetentionDecision[], dryRun: boolean, deleted: DeletedSet[]): string {
  const pruned = decisions.filter((d) => d.action === 'prune');
  const bytes = formatBytes(pruned.reduce((n, d) => n + d.sizeBytes, 0));
  const kept = decisions.length - pruned.length;
  if (!pruned.length) return `Nothing to prune: all ${decisions.length} sets of ${environmentKey(env)} are kept.`;
  if (dryRun) return `A prune would delete ${pruned.length} of ${decisions.length} sets (${bytes}) and keep ${kept}; nothing was deleted.`;
  return `Deleted ${deleted.length} of ${decisions.length} sets (${formatBytes(deleted.reduce((n, d) => n + d.sizeBytes, 0))}); kept ${kept}.`;
}

/**
 * Applies the environment's retention policy. A dry run reads and decides exactly as a real prune
 * does, and deletes nothing; a real prune holds the environment's lock, decides on what it lists
 * under that lock, and deletes oldest first. Logged through `log` (dry runs are not: they change nothing).
 */
export async function pruneSets(env: Environment, opts: PruneOptions): Promise<PruneResult> {
  const key = environmentKey(env);
  const now = opts.now ?? new Date();
  const store = openStore(env.location);
  if (!env.retention) {
    const decisions = decideRetention(await readSets(env, store, opts.catalog), undefined, now);
    const summary = `${key} has no retention policy: nothing was pruned. Add "retention" to the environment (e.g. { "keepLast": 7 }) to prune.`;
    return { env: key, dryRun: opts.dryRun, policy: false, summary, decisions, deleted: [], cleaned: [] };
  }
  if (opts.dryRun) {
    const decisions = decideRetention(await readSets(env, store, opts.catalog), env.retention, now);
    return { env: key, dryRun: true, policy: true, summary: summarize(env, decisions, true, []), decisions, deleted: [], cleaned: [] };
  }
  const deleted: DeletedSet[] = [];
  opts.log?.about(key, 'prune');
  try {
    requireConfirmation(env, opts.confirm, opts.catalog, { what: 'a prune needs its name typed to confirm', unchanged: 'Nothing was deleted.' });
    await refuseOverlap(env); // the lock file goes into the location
    await listLocation(env, store); // before the lock, whose file would need the folder
    const lock = await store.lock(key, { operation: 'prune', door: opts.door });
    try {
      const cleaned = await store.cleanDeletions((id) => isSetOf(id, env.app, env.name));
      const decisions = decideRetention(await readSets(env, store, opts.catalog), env.retention, now);
      const doomed = decisions.filter((d) => d.action === 'prune').reverse();
      for (const d of doomed) {
        if (await store.isPinned(d.id)) continue; // pinned since the listing: a pin always wins
        deleted.push(await store.remove(d.id));
        opts.catalog.removeSet(d.id);
      }
      const summary = summarize(env, decisions, false, deleted);
      opts.log?.done(summary, { detail: { deleted: deleted.map((x) => x.id), cleaned } });
      return { env: key, dryRun: false, policy: true, summary, decisions, deleted, cleaned };
    } finally {
      await lock.release();
    }
  } catch (err) {
    const shape = toErrorShape(err);
    const done = deleted.length ? ` (after deleting ${deleted.map((x) => x.id).join(', ')})` : '';
    // Logged with the error as it was, and what had been deleted before it.
    opts.log?.about(key, 'prune', () => ({ summary: `${shape.message}${done}`, detail: { error: shape, deleted: deleted.map((x) => x.id) } }));
    if (deleted.length && err instanceof LifeboatError)
      throw new LifeboatError(err.code, `${err.message} ${deleted.length} sets were deleted before: ${deleted.map((x) => x.id).join(', ')}.`, err.hint);
    throw err;
  }
}

/**
 * Deletes one set the operator chose, in the folder it is recorded in: the current location, or
 * one the environment had before. A pinned set is refused; the caller logs the deletion either way.
 */
export async function deleteSet(env: Environment, setId: string, opts: RemovalOptions): Promise<DeleteResult> {
  const key = environmentKey(env);
  if (!SET_ID_PATTERN.test(setId) || !isSetOf(setId, env.app, env.name)) {
    throw new LifeboatError('UNKNOWN_SET', `"${setId}" is not a set id of ${key}.`, `List the sets with: lifeboat list --env ${env.name}.`);
  }
  const recorded = opts.catalog.sets(key).find((s) => s.id === setId)?.path;
  const store = recorded ? recordedSet(recorded).store : openStore(env.location);
  if (!(await store.has(setId))) {
    throw new LifeboatError('UNKNOWN_SET', `There is no set ${setId} in ${store.location}.`, `List the sets with: lifeboat list --env ${env.name}.`);
  }
  const refusePinned = async () => {
    if (await store.isPinned(setId))
      throw new LifeboatError('SET_PINNED', `${setId} is pinned, so it is never deleted.`, `Unpin it first (lifeboat unpin --env ${env.name} --set ${setId}), then delete it.`);
  };
  await refusePinned();
  requireConfirmation(env, opts.confirm, opts.catalog, { what: 'deleting a set needs its name typed to confirm', unchanged: 'Nothing was deleted.' });
  await refuseOverlap(env);
  const lock = await store.lock(key, { operation: 'delete', door: opts.door });
  try {
    await refusePinned();
    const cleaned = await store.cleanDeletions((id) => isSetOf(id, env.app, env.name));
    const deleted = await store.remove(setId);
    opts.catalog.removeSet(setId);
    return { env: key, deleted, cleaned };
  } finally {
    await lock.release();
  }
}
