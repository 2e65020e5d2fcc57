import { environmentKey } from '../../../shared/environment.js';
import { runBackup } from '../backup.js';
import { syncSets } from '../set-index.js';
import type { EngineCore, HandlerTable } from './types.js';

/** Backing up one environment. */
export function backupHandlers(core: EngineCore): HandlerTable<'backup.run'> {
  const { catalog } = core;
  return {
    'backup.run': async ({ env: ref }, { log, signal, onProgress }) => {
      const env = core.environment(ref);
      const key = environmentKey(env);
      log.about(key, 'backup');
      // A location that went away while sets were recorded there is an unmounted disk: a backup must
      // not make a fresh folder in its place (on the wrong disk) and forget the sets.
      await syncSets(catalog, env);
      const sealed = await runBackup(env, { door: core.door, knownIds: catalog.setIds(key), signal, onProgress });
      const size = await sealed.set.bytes();
      catalog.upsertSet(sealed.manifest, sealed.set.dir, size);
      const durationMs = Date.parse(sealed.manifest.finishedAt) - Date.parse(sealed.manifest.startedAt);
      log.done(`Sealed ${sealed.manifest.id}: ${sealed.manifest.artifacts.length} artifacts, ${size} bytes`, { detail: { id: sealed.manifest.id, cleaned: sealed.cleaned } });
      return {
        id: sealed.manifest.id,
        path: sealed.set.dir,
        env: key,
        sizeBytes: size,
        durationMs,
        artifacts: sealed.manifest.artifacts.map((a) => ({ file: a.file, size: a.size, sha256: a.sha256 })),
        cleaned: sealed.cleaned,
      };
    },
  };
}
