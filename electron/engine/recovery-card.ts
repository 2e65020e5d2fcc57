import type { CommandSource, CommandStep, PostgresSource } from '../../shared/environment.js';
import type { CommandOutputDetails, Manifest, PgDumpDetails } from '../../shared/manifest.js';

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
    const was = src && 'path' in src ? ` (was ${src.path})` : '';
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
        `   aside, then copy ${a.source}.sqlite to ${src && 'path' in src ? src.path : 'the database path'}.`,
        `   Give it the owner and mode of the one you moved aside (chown --reference=OLD NEW, then`,
        `   chmod --reference=OLD NEW)${d.file ? `; the set records ${d.file.user ?? d.file.uid}:${d.file.group ?? d.file.gid}, mode ${d.file.mode.toString(8).padStart(4, '0')}` : ''}.`,
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
        `   object a line, with its size, mode, owner, time and SHA-256; run tar as root to keep owners.`,
        `   To restore: stop the application, move the live folder aside, then move`,
        `   ${a.source}-restored to ${src && 'path' in src ? src.path : 'its place'}.`,
        '',
      );
    } else if (a.details.type === 'pg-dump') {
      lines.push(`${step++}. Source "${a.source}": PostgreSQL database`, '', ...pgDumpCard(a.file, a.details, src?.kind === 'postgres' ? src : undefined));
    } else if (a.details.type === 'command-output') {
      lines.push(`${step++}. Source "${a.source}": the output of a dump command`, '', ...commandCard(a.source, a.file, a.details, src?.kind === 'command' ? src : undefined));
    }
  }
  if (m.artifacts.some((a) => a.details.type === 'sqlite' || a.details.type === 'archive')) lines.push('Keep the folder you moved aside until the application runs well on the restored data.', '');
  return lines.join('\n');
}

/** A word as a POSIX shell reads it back unchanged: bare when plain, else in single quotes. */
function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`;
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
  for (const t of d.tables.slice(0, 8)) lines.push(`     psql ${conn} -d ${shellWord(`${d.database}_restored`)} -Atc ${shellWord(`SELECT count(*) FROM ONLY ${t.name.split('.').map((p) => `"${p.replaceAll('"', '""')}"`).join('.')}`)}   # recorded: ${t.rows}`);
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

/**
 * A step as a shell line, `(cd DIR && NAME=value program args…)`: in a subshell, so the input
 * file is opened in this folder and the reader's shell stays here.
 */
function stepLine(step: CommandStep, first = ''): string {
  const env = Object.entries(step.env).map(([k, v]) => `${k}=${shellWord(v)} `).join('');
  return `(${first}${step.cwd ? `cd ${shellWord(step.cwd)} && ` : ''}${env}${step.argv.map(shellWord).join(' ')})`;
}

function commandCard(source: string, file: string, d: CommandOutputDetails, src: CommandSource | undefined): string[] {
  const out = `${source}.${d.format === 'django-fixture' ? 'json' : 'out'}`;
  const lines = [`     gunzip -c ${file} > ${out}`, `     sha256sum ${out}     # must be ${d.rawSha256}`, '', `   The output is ${d.rawSize} bytes, as the dump command printed it.`];
  if (src) lines.push(`   It was made by running, in ${src.dump.cwd ?? 'the folder Lifeboat ran in'}: ${src.dump.argv.map(shellWord).join(' ')}`);
  if (d.format === 'django-fixture') lines.push(`   It is a Django JSON fixture of ${d.models?.reduce((n, m) => n + m.rows, 0) ?? 0} objects; manifest.json lists them per model.`);
  if (src?.drill) {
    lines.push('', '   To check that it loads, into a throw-away target (the live data is not touched):', '');
    lines.push(`     mkdir ${source}-drill && ${stepLine(src.drill, `export LIFEBOAT_DRILL_DIR="$PWD/${source}-drill" && `)} < ${out}`);
  }
  if (src?.reset) {
    lines.push('', '   To restore, first empty what the dump covers, then run the restore command with the', '   output on its standard input:', '');
    lines.push(`     ${stepLine(src.reset)} < /dev/null`);
  } else {
    lines.push('', '   To restore, run the restore command with the output on its standard input:', '');
    if (d.format === 'django-fixture') lines.splice(-1, 0, '   (loaddata adds and updates objects, it never deletes: objects not in this set are kept)', '');
  }
  if (src) lines.push(`     ${stepLine(src.restore)} < ${out}`);
  else lines.push(`     RESTORE-COMMAND < ${out}`);
  lines.push('');
  return lines;
}
