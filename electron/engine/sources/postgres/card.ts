import type { PostgresSource, Source } from '../../../../shared/environment.js';
import type { Artifact, PgDumpDetails } from '../../../../shared/manifest.js';
import type { CardSection } from '../common/kind.js';
import { shellWord } from '../common/shell-word.js';

/** The recovery card's steps for a pg_dump artifact: check the dump, restore it into a new database, then over the live one. */
export function postgresCard(a: Artifact, src: Source | undefined): CardSection | null {
  if (a.details.type !== 'pg-dump') return null;
  return { heading: 'PostgreSQL database', lines: pgDumpCard(a.file, a.details, src?.kind === 'postgres' ? src : undefined), movesAside: false };
}

/** `15.18` from `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`. */
function versionOf(text: string): string {
  return /\d+(?:\.\d+)*/.exec(text)?.[0] ?? text;
}

function pgDumpCard(file: string, d: PgDumpDetails, src: PostgresSource | undefined): string[] {
  const conn = src ? [...(src.host ? ['-h', src.host] : []), '-p', String(src.port), '-U', src.user].map(shellWord).join(' ') : '-h HOST -p PORT -U USER';
  const db = shellWord(d.database);
  const lines = [
    `   Database ${db}, dumped by pg_dump ${versionOf(d.pgDumpVersion)} from PostgreSQL ${versionOf(d.serverVersion)}`,
    `   (custom format, already compressed). pg_restore must be version ${versionOf(d.pgDumpVersion).split('.')[0]} or newer.`,
    '',
    `     pg_restore --list ${file} | grep -c 'TABLE DATA'     # recorded: ${d.tables.length} tables`,
    '',
    '   Restore test into a new database (the live one is not touched):',
    '',
    `     createdb ${conn} ${shellWord(`${d.database}_restored`)}`,
    `     pg_restore ${conn} --single-transaction --no-owner --no-acl -d ${shellWord(`${d.database}_restored`)} ${file}`,
  ];
  for (const t of d.tables.slice(0, 8))
    lines.push(
      `     psql ${conn} -d ${shellWord(`${d.database}_restored`)} -Atc ${shellWord(
        `SELECT count(*) FROM ONLY ${t.name
          .split('.')
          .map((p) => `"${p.replaceAll('"', '""')}"`)
          .join('.')}`,
      )}   # recorded: ${t.rows}`,
    );
  if (d.tables.length > 8) lines.push(`     (${d.tables.length - 8} more tables are listed with their row counts in manifest.json)`);
  lines.push(
    '',
    '   To restore over the live database: stop the application (no session may be connected), then',
    '',
    `     pg_restore ${conn} --clean --if-exists --single-transaction -d ${db} ${file}`,
    '',
    '   In one transaction, it applies the whole dump or, on any error, nothing.',
    '',
  );
  return lines;
}
