import type { Source } from '../../../../shared/environment.js';
import type { Artifact } from '../../../../shared/manifest.js';
import type { CardSection } from '../common/kind.js';

/** The recovery card's steps for a SQLite snapshot: decompress, check, count rows, copy into place. */
export function sqliteCard(a: Artifact, src: Source | undefined): CardSection | null {
  if (a.details.type !== 'sqlite') return null;
  const d = a.details;
  const livePath = src && 'path' in src ? src.path : undefined;
  const lines = [`     gunzip -c ${a.file} > ${a.source}.sqlite`, `     sqlite3 ${a.source}.sqlite "PRAGMA integrity_check"      # prints: ok`];
  for (const t of d.tables.slice(0, 8)) {
    const sql = `SELECT count(*) FROM "${t.name.replaceAll('"', '""')}"`;
    lines.push(`     sqlite3 ${a.source}.sqlite '${sql.replaceAll("'", "'\\''")}'   # recorded: ${t.rows}`);
  }
  if (d.tables.length > 8) lines.push(`     (${d.tables.length - 8} more tables are listed with their row counts in manifest.json)`);
  lines.push(
    '',
    `   The decompressed file must be ${d.rawSize} bytes with SHA-256 ${d.rawSha256}`,
    `   (check with: sha256sum ${a.source}.sqlite).`,
    `   To restore: stop the application, move the live database and its -wal and -shm files`,
    `   aside, then copy ${a.source}.sqlite to ${livePath ?? 'the database path'}.`,
    `   Give it the owner and mode of the one you moved aside (chown --reference=OLD NEW, then`,
    `   chmod --reference=OLD NEW)${d.file ? `; the set records ${d.file.user ?? d.file.uid}:${d.file.group ?? d.file.gid}, mode ${d.file.mode.toString(8).padStart(4, '0')}` : ''}.`,
    '',
  );
  return { heading: `SQLite database${livePath ? ` (was ${livePath})` : ''}`, lines, movesAside: true };
}
