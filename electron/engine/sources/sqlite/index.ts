import type { SqliteSource } from '../../../../shared/environment.js';
import { formatBytes } from '../../../../shared/format.js';
import type { KindDescriptor } from '../common/kind.js';
import { sqliteCard } from './card.js';
import { sqlitePlugin } from './sqlite.js';
import { sqliteRestore } from './sqlite-restore.js';

/** A SQLite database: one file, snapshotted with the online backup API, restored by a swap. */
export const sqliteKind: KindDescriptor<SqliteSource> = {
  kind: 'sqlite',
  plugin: sqlitePlugin,
  restorer: sqliteRestore,
  description: {
    kind: 'sqlite',
    choice: 'SQLite database (a file)',
    label: 'SQLite database',
    addButton: '+ SQLite database',
    defaultName: 'db',
    restoresInto: 'folder',
    fields: [{ key: 'path', label: 'Database file', placeholder: '/srv/shop/data/shop.db', input: 'text', required: true, problemAt: 'path', initial: '', mono: false, wide: true }],
  },
  pathsOf: (s) => [['path', s.path]],
  resolvePaths: (s, base, resolve) => {
    s.path = resolve(s.path, base);
  },
  livePath: (s) => ({ path: s.path, folder: false }),
  restoreTarget: (s) => `sqlite ${s.path}`,
  placeOf: (s) => s.path,
  shownPlace: (s) => s.path,
  checkAnswer: (_s, estimate) => ({ summary: `A SQLite database, ${formatBytes(estimate.bytes)}` }),
  cardSection: sqliteCard,
};
