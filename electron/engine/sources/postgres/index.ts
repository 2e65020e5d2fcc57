import type { PostgresSource } from '../../../../shared/environment.js';
import { formatBytes } from '../../../../shared/format.js';
import type { KindField } from '../../../../shared/kinds.js';
import type { KindDescriptor } from '../common/kind.js';
import { postgresCard } from './card.js';
import { postgresPlugin } from './postgres.js';
import { postgresRestore } from './postgres-restore.js';

const text = (f: Pick<KindField, 'key' | 'label'> & Partial<KindField>): KindField => ({ input: 'text', required: false, problemAt: f.key, initial: '', mono: false, wide: false, ...f });

/** A PostgreSQL database: dumped with pg_dump from one snapshot, restored by pg_restore in one transaction. */
export const postgresKind: KindDescriptor<PostgresSource> = {
  kind: 'postgres',
  plugin: postgresPlugin,
  restorer: postgresRestore,
  description: {
    kind: 'postgres',
    choice: 'PostgreSQL database',
    label: 'PostgreSQL database',
    addButton: '+ PostgreSQL database',
    defaultName: 'pg',
    restoresInto: 'database',
    fields: [
      text({ key: 'database', label: 'Database', placeholder: 'ledger', required: true }),
      text({ key: 'user', label: 'User', placeholder: 'ledger_backup', required: true }),
      text({ key: 'host', label: 'Host or socket folder', note: '(empty: the local socket)', placeholder: '/var/run/postgresql or db.internal' }),
      text({ key: 'port', label: 'Port', input: 'number', initial: '5432' }),
      text({ key: 'passwordEnv', label: 'Password from the variable', note: '(its name, not the password)', placeholder: 'LEDGER_PGPASSWORD' }),
      text({ key: 'passfile', label: '…or from a .pgpass file', note: '(mode 0600)', placeholder: '/home/you/.pgpass' }),
      text({ key: 'binDir', label: 'Folder of pg_dump, pg_restore and psql', note: '(empty: found on the PATH)', placeholder: '/usr/lib/postgresql/16/bin' }),
      text({ key: 'connectTimeoutSeconds', label: 'Give up connecting after', note: '(seconds)', input: 'number', placeholder: '10' }),
      text({ key: 'timeoutSeconds', label: 'Stop a dump or restore that runs longer than', note: '(seconds)', input: 'number', placeholder: '3600' }),
      text({ key: 'scratch', label: 'Let the check restore the dump into a scratch database {server} (created and dropped each time)', input: 'presence', problemAt: null, wide: true }),
    ],
  },
  pathsOf: (s) =>
    [
      ['passfile', s.passfile],
      ['binDir', s.binDir],
      ['scratch.passfile', s.scratch?.passfile],
    ].filter((e): e is [string, string] => typeof e[1] === 'string'),
  // A passfile and a folder of client programs are paths like any other; a socket folder must already be absolute.
  resolvePaths: (s, base, resolve) => {
    if (s.passfile) s.passfile = resolve(s.passfile, base);
    if (s.binDir) s.binDir = resolve(s.binDir, base);
    if (s.scratch?.passfile) s.scratch.passfile = resolve(s.scratch.passfile, base);
  },
  livePath: () => null,
  restoreTarget: (s) => `postgres ${s.host ?? 'local socket'}:${s.port} database ${s.database}`,
  placeOf: (s) => `the PostgreSQL database "${s.database}"`,
  shownPlace: (s) => `${s.database} on ${s.host ?? 'the local socket'}${s.port !== 5432 ? `:${s.port}` : ''} as ${s.user}`,
  checkAnswer: (_s, estimate) => ({ summary: `Server reached, programs found; the database is about ${formatBytes(estimate.bytes)}` }),
  cardSection: postgresCard,
};
