import { kindDescriptions, kindOf } from '../sources/index.js';
import type { EngineCore, HandlerTable } from './types.js';

/** What the screens know of source kinds: asked of the kinds' descriptors, so no screen tests a kind's name. */
export function kindHandlers(core: EngineCore): HandlerTable<'kinds.list' | 'env.sources'> {
  return {
    'kinds.list': async () => kindDescriptions(),
    'env.sources': async ({ env }) =>
      core.environment(env).sources.map((s) => {
        const kind = kindOf(s);
        return { name: s.name, kind: s.kind, label: kind.description.label, place: kind.shownPlace(s) };
      }),
  };
}
