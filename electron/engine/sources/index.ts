import type { Source, SourceKind } from '../../../shared/environment.js';
import { filesPlugin } from './files/files.js';
import { sqlitePlugin } from './sqlite/sqlite.js';
import { sqliteRestore } from './sqlite/sqlite-restore.js';
import { filesRestore } from './files/files-restore.js';
import { postgresPlugin } from './postgres/postgres.js';
import { postgresRestore } from './postgres/postgres-restore.js';
import { commandPlugin } from './command/command.js';
import { commandRestore } from './command/command-restore.js';
import type { RestorePlugin, SourcePlugin } from './common/types.js';

const plugins = new Map<string, SourcePlugin>();

function register(plugin: SourcePlugin<never>): void {
  if (plugins.has(plugin.kind)) throw new Error(`source kind ${plugin.kind} registered twice`);
  plugins.set(plugin.kind, plugin as unknown as SourcePlugin);
}

register(sqlitePlugin as SourcePlugin<never>);
register(filesPlugin as SourcePlugin<never>);
register(postgresPlugin as SourcePlugin<never>);
register(commandPlugin as SourcePlugin<never>);

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

const restorers = new Map<string, RestorePlugin>([
  ['sqlite', sqliteRestore as unknown as RestorePlugin],
  ['files', filesRestore as unknown as RestorePlugin],
  ['postgres', postgresRestore as unknown as RestorePlugin],
  ['command', commandRestore as unknown as RestorePlugin],
]);

/** The restore half of a configured source's plug-in. */
export function restorerOf(source: Source): RestorePlugin {
  const plugin = restorers.get(source.kind);
  if (!plugin) throw new Error(`no restore plug-in for source kind ${source.kind}`);
  return plugin;
}
