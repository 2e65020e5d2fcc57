import path from 'node:path';
import { environmentKey } from '../../../shared/environment.js';
import { formatBytes } from '../../../shared/format.js';
import { LifeboatError } from '../errors.js';
import { deleteSet, pruneSets } from '../prune.js';
import { revealFolder } from '../reveal.js';
import { environmentsIn, findSet, syncSets } from '../set-index.js';
import { recordedSet } from '../store/index.js';
import type { EngineCore, HandlerTable } from './types.js';

/** Listing, revealing, pinning, deleting and pruning sets, and rebuilding the catalog from the locations. */
export function setHandlers(core: EngineCore): HandlerTable<'sets.list' | 'sets.reveal' | 'sets.pin' | 'sets.delete' | 'sets.prune' | 'retention.preview' | 'catalog.rebuild'> {
  const { catalog } = core;
  return {
    'sets.list': async ({ env: ref }) => {
      const env = core.environment(ref);
      await syncSets(catalog, env);
      return catalog.sets(environmentKey(env));
    },
    'sets.reveal': async ({ env: ref, set }) => revealFolder((await findSet(catalog, core.environment(ref), set)).dir),
    'sets.pin': async ({ env: ref, set, pinned }, { log }) => {
      const env = core.environment(ref);
      const key = environmentKey(env);
      await syncSets(catalog, env);
      if (!catalog.sets(key).some((s) => s.id === set)) await findSet(catalog, env, set); // says why the id is unknown
      const found = catalog.sets(key).find((s) => s.id === set);
      if (!found) throw new LifeboatError('UNKNOWN_SET', `${set} has no readable manifest, so it cannot be pinned.`, `Drill it to see what is wrong (lifeboat drill --env ${env.name} --set ${set}).`);
      await recordedSet(found.path).store.pin(set, pinned, core.door); // beside the set, wherever its location
      await syncSets(catalog, env);
      log.done(`${pinned ? 'Pinned' : 'Unpinned'} ${set}`, { subject: { env: key, action: pinned ? 'pin' : 'unpin' } });
      return catalog.sets(key).find((s) => s.id === set)!;
    },
    'sets.delete': async ({ env: ref, set, confirm }, { log }) => {
      const env = core.environment(ref);
      log.about(environmentKey(env), 'delete', (shape) => ({ summary: `Delete of ${set}: ${shape.message}`, detail: shape }));
      const result = await deleteSet(env, set, { catalog, door: core.door, confirm });
      log.done(`Deleted ${set} (${formatBytes(result.deleted.sizeBytes)})`, { detail: { deleted: result.deleted, cleaned: result.cleaned } });
      return result;
    },
    'sets.prune': async ({ env: ref, dryRun, confirm }, { log }) => {
      const env = core.environment(ref);
      const result = await pruneSets(env, { catalog, door: core.door, dryRun, confirm, log });
      await syncSets(catalog, env).catch(() => undefined);
      return result;
    },
    'retention.preview': async ({ env: ref, retention }) => pruneSets({ ...core.environment(ref), retention }, { catalog, door: core.door, dryRun: true }),
    'catalog.rebuild': async ({ locations }, { log }) => {
      const adopted: string[] = [];
      const unreadable: { path: string; message: string }[] = [];
      for (const location of locations.map((l) => path.resolve(l))) {
        for (const env of await environmentsIn(location, unreadable)) {
          const key = environmentKey(env);
          if (catalog.findEnvironments(key).length === 0) {
            catalog.saveEnvironment(env);
            adopted.push(key);
          }
        }
      }
      let added = 0;
      let removed = 0;
      const environments = catalog.environments();
      for (const env of environments) {
        // One environment's unmounted disk is reported with the unreadable sets; the others are still rescanned.
        const r = await syncSets(catalog, env).catch((err: unknown) => {
          if (!(err instanceof LifeboatError) || err.code !== 'LOCATION_UNREADABLE') throw err;
          unreadable.push({ path: env.location, message: `${err.message} ${err.hint}` });
          return null;
        });
        if (!r) continue;
        added += r.added;
        removed += r.removed;
        unreadable.push(...r.unreadable);
      }
      const sets = environments.reduce((n, env) => n + catalog.sets(environmentKey(env)).length, 0);
      log.done(`Rescanned ${environments.length} environments: ${sets} sets, ${added} added, ${removed} gone`, { subject: { env: null, action: 'catalog.rebuild' } });
      return { environments: environments.map(environmentKey), adoptedEnvironments: adopted, sets, added, removed, unreadable };
    },
  };
}
