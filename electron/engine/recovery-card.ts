import type { Manifest } from '../../shared/manifest.js';

/**
 * The text of `RESTORE.txt`: for this one set, the plain commands that check and restore it
 * when Lifeboat is gone. Backups outlive the program that made them.
 */
export function recoveryCard(m: Omit<Manifest, 'integrity'>): string {
  const lines: string[] = [
    `Lifeboat backup set ${m.id}`,
    `Environment ${m.app}/${m.env}, made ${m.finishedAt} on ${m.host} by Lifeboat ${m.tool.version}.`,
    '',
    'This file says how to check and restore this set with standard tools if Lifeboat is not',
    'available. The format is described in full in Lifeboat\'s docs/FORMAT.md.',
    '',
    '1. Check that no file is damaged (run in this folder; every line must say OK):',
    '',
    '     sha256sum -c SHA256SUMS',
    '',
  ];
  let step = 2;
  for (const a of m.artifacts) {
    const src = m.environment.sources.find((s) => s.name === a.source);
    const was = src ? ` (was ${src.path})` : '';
    if (a.details.type === 'sqlite') {
      const d = a.details;
      lines.push(`${step++}. Source "${a.source}": SQLite database${was}`, '', `     gunzip -c ${a.file} > ${a.source}.sqlite`, `     sqlite3 ${a.source}.sqlite "PRAGMA integrity_check"      # prints: ok`);
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
        `   aside, then copy ${a.source}.sqlite to ${src?.path ?? 'the database path'}.`,
        '',
      );
    } else if (a.details.type === 'archive') {
      const d = a.details;
      lines.push(
        `${step++}. Source "${a.source}": folder${was}`,
        '',
        `     mkdir ${a.source}-restored && tar -xzf ${a.file} -C ${a.source}-restored`,
        `     find ${a.source}-restored -type f | wc -l        # recorded: ${d.fileCount} files`,
        '',
        `   The files hold ${d.totalBytes} bytes in all. ${d.indexFile} lists every entry, one JSON`,
        `   object a line, with its size, mode, time and SHA-256.`,
        `   To restore: stop the application, move the live folder aside, then move`,
        `   ${a.source}-restored to ${src?.path ?? 'its place'}.`,
        '',
      );
    }
  }
  lines.push('Keep the folder you moved aside until the application runs well on the restored data.', '');
  return lines.join('\n');
}
