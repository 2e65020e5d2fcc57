import path from 'node:path';
import { environmentKey, type Environment } from '../../../shared/environment.js';
import { confirmationName, requireConfirmation, sentenceList, weakeningChanges } from '../confirmation.js';
import { makeDemo } from '../demo.js';
import { checkEnvironment } from '../environment-check.js';
import { parseEnvironment, parseForSaving } from '../environment-file.js';
import { statusOf } from '../status.js';
import type { EngineCore, HandlerTable } from './types.js';

/** Listing, reading, checking and saving environments, and the demo. */
export function environmentHandlers(core: EngineCore): HandlerTable<'env.list' | 'env.get' | 'env.save' | 'env.check' | 'env.demo'> {
  const { catalog } = core;

  /**
   * Refuses (logged by the dispatch) a save that weakens a protected environment already saved unless
   * `confirm` confirms it; the rule of what confirms is confirmation.ts's, as for restores and deletions.
   */
  const confirmSave = (env: Environment, confirm: string | undefined): void => {
    const before = catalog.findEnvironments(environmentKey(env))[0];
    const changes = before ? weakeningChanges(before, env) : [];
    if (!before || !changes.length) return;
    requireConfirmation(before, confirm, catalog, {
      what: `this save ${sentenceList(changes)}, which needs its name typed to confirm`,
      command: 'lifeboat env import FILE',
      unchanged: 'Nothing was saved.',
    });
  };

  /** What `env.check` tells the editor: whether its save will need the typed name, and why. */
  const saveConfirmation = (input: unknown, baseDir: string | null): { name: string; changes: string[] } | null => {
    let env: Environment;
    try {
      env = parseEnvironment(input, baseDir);
    } catch {
      return null;
    }
    const before = catalog.findEnvironments(environmentKey(env))[0];
    const changes = before?.protection === 'protected' ? weakeningChanges(before, env) : [];
    return before && changes.length ? { name: confirmationName(before, catalog), changes } : null;
  };

  return {
    'env.list': async () => {
      const now = new Date();
      return Promise.all(
        catalog.environments().map(async (env) => {
          const key = environmentKey(env);
          const sets = catalog.sets(key);
          const status = await statusOf(catalog, env, now);
          return {
            key,
            app: env.app,
            name: env.name,
            protection: env.protection,
            location: env.location,
            sources: env.sources.length,
            sets: sets.length,
            lastBackupAt: sets[0]?.finishedAt ?? null,
            lastDrill: catalog.lastDrill(key),
            health: { level: status.level, alerts: status.alerts.length },
            confirmAs: confirmationName(env, catalog),
          };
        }),
      );
    },
    'env.get': async ({ env }) => core.environment(env),
    'env.save': async ({ environment, baseDir, confirm }, { log }) => {
      const env = await parseForSaving(environment, baseDir ?? null);
      log.about(environmentKey(env), 'env.save');
      confirmSave(env, confirm);
      catalog.saveEnvironment(env);
      log.done(`Saved environment ${environmentKey(env)} with ${env.sources.length} sources`);
      return env;
    },
    'env.check': async ({ environment, baseDir }) => {
      const check = await checkEnvironment(environment, { baseDir, known: (key) => catalog.findEnvironments(key).length > 0 });
      return { ...check, confirmation: saveConfirmation(environment, baseDir ?? null) };
    },
    'env.demo': async (_args, { log }) => {
      const existing = catalog.findEnvironments('demo/notes')[0];
      const env = parseEnvironment(await makeDemo(core.home), core.home);
      if (existing) return existing;
      catalog.saveEnvironment(env);
      log.done(`Created the demo environment ${environmentKey(env)}: a notes database and an attachments folder in ${path.dirname(env.location)}`, {
        subject: { env: environmentKey(env), action: 'env.save' },
      });
      return env;
    },
  };
}
