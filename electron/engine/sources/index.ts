import type { Source, SourceKind } from '../../../shared/environment.js';
import { filesPlugin } from './files.js';
import { sqlitePlugin } from './sqlite.js';
import type { SourcePlugin } from './types.js';

const plugins = new Map<string, SourcePlugin>();

function register(plugin: SourcePlugin<never>): void {
  if (plugins.has(plugin.kind)) throw new Error(`source kind ${plugin.kind} registered twice`);
  plugins.set(plugin.kind, plugin as unknown as SourcePlugin);
}

register(sqlitePlugin as SourcePlugin<never>);
register(filesPlugin as SourcePlugin<never>);

/** The plug-in of a source kind, or undefined for a kind this version does not know. */
export function pluginFor(kind: SourceKind | string): SourcePlugin | undefined {
  return plugins.get(kind);
}

/** The plug-in for a configured source; every configured kind has one. */
export function pluginOf(source: Source): SourcePlugin {
  const plugin = plugins.get(source.kind);
  if (!plugin) throw new Error(`no plug-in for source kind ${source.kind}`);
  return plugin;
}
