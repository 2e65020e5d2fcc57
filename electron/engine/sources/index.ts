import type { Source } from '../../../shared/environment.js';
import type { KindDescription } from '../../../shared/kinds.js';
import type { Artifact } from '../../../shared/manifest.js';
import type { CardSection, KindDescriptor } from './common/kind.js';
import type { RestorePlugin, SourcePlugin } from './common/types.js';
import { commandKind } from './command/index.js';
import { filesKind } from './files/index.js';
import { postgresKind } from './postgres/index.js';
import { sqliteKind } from './sqlite/index.js';

/**
 * Every source kind this version knows, in the order the editor offers them. Adding a kind is a
 * new folder beside these with its descriptor in its `index.ts`, and one line here.
 */
const KINDS = [sqliteKind, filesKind, postgresKind, commandKind];

const kinds = new Map<string, KindDescriptor>();
for (const k of KINDS) {
  if (kinds.has(k.kind)) throw new Error(`source kind ${k.kind} registered twice`);
  // Each descriptor is typed to its own source; the map hands it only sources of that kind.
  kinds.set(k.kind, k as unknown as KindDescriptor);
}

/** The descriptor of a configured source; every configured kind has one. */
export function kindOf(source: Source): KindDescriptor {
  const kind = kinds.get(source.kind);
  if (!kind) throw new Error(`no descriptor for source kind ${source.kind}`);
  return kind;
}

/** The plug-in of a source kind, or undefined for a kind this version does not know. */
export function pluginFor(kind: string): SourcePlugin | undefined {
  return kinds.get(kind)?.plugin;
}

/** The plug-in for a configured source; every configured kind has one. */
export function pluginOf(source: Source): SourcePlugin {
  return kindOf(source).plugin;
}

/** The restore half of a configured source's plug-in. */
export function restorerOf(source: Source): RestorePlugin {
  return kindOf(source).restorer;
}

/** How the screens show each kind, in the editor's order. */
export function kindDescriptions(): KindDescription[] {
  return [...kinds.values()].map((k) => k.description);
}

/** The recovery card's section for an artifact, from the kind that wrote it; null when no kind knows it. */
export function cardSectionOf(artifact: Artifact, source: Source | undefined): CardSection | null {
  for (const k of kinds.values()) {
    const section = k.cardSection(artifact, source);
    if (section) return section;
  }
  return null;
}
