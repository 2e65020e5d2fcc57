import { environmentKey } from '../../../shared/environment.js';
import { worst } from '../monitoring.js';
import { syncSets } from '../set-index.js';
import { statusOf } from '../status.js';
import type { EngineCore, HandlerTable } from './types.js';

/** Health and alerts, and the activity log. */
export function statusHandlers(core: EngineCore): HandlerTable<'status.get' | 'activity.list'> {
  const { catalog } = core;
  return {
    'status.get': async ({ env: ref, now }) => {
      const at = now ? new Date(now) : new Date();
      const envs = ref ? [core.environment(ref)] : catalog.environments();
      const environments = [];
      for (const env of envs) {
        await syncSets(catalog, env).catch(() => undefined); // an unreadable location is an alert of its own
        environments.push(await statusOf(catalog, env, at));
      }
      return { checkedAt: at.toISOString(), level: worst(environments.map((e) => e.level)), environments };
    },
    'activity.list': async ({ env, limit }) => {
      const key = env ? environmentKey(core.environment(env)) : undefined;
      return catalog.activity(key, limit);
    },
  };
}
