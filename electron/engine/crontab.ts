import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LifeboatError } from './errors.js';

/**
 * The comment that ends Lifeboat's one line in a crontab: `schedule install` replaces the line
 * that carries it and `schedule remove` deletes exactly that line, so the operator's own lines
 * are never touched. In a crontab the rest of the line goes to `sh`, which reads it as a comment.
 */
export const CRON_MARK = '# lifeboat-run-due';

/** A word for `sh`, in single quotes; `%` escaped, since cron turns a bare `%` into a newline. */
function shellWord(s: string): string {
  if (/[\n\r]/.test(s))
    throw new LifeboatError(
      'BAD_ARGUMENT',
      `${JSON.stringify(s)} has a line break, so it cannot go in a crontab line.`,
      'Use a Lifeboat home and a Node path without line breaks, or install a systemd timer (--method user or system).',
    );
  return `'${s.replace(/'/g, `'\\''`).replace(/%/g, '\\%')}'`;
}

/**
 * The crontab line: every `minutes` minutes, run-due with this home. Its report goes nowhere (cron
 * would mail "Nothing was due." every few minutes); what it did is in `lifeboat activity`, and an
 * error still reaches cron's mail through stderr.
 */
export function cronLine(argv: string[], home: string, minutes: number): string {
  return `*/${minutes} * * * * LIFEBOAT_HOME=${shellWord(home)} ${argv.map(shellWord).join(' ')} >/dev/null ${CRON_MARK}`;
}

const isOurs = (line: string) => line.trimEnd().endsWith(` ${CRON_MARK}`);

/** The user's crontab as `crontab -l` prints it; none yet is an empty one, any other failure is refused. */
function readCrontab(crontab: string): string[] {
  const r = spawnSync(crontab, ['-l'], { encoding: 'utf8', timeout: 30_000 });
  if (!r.error && r.status === 0) return r.stdout.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  if (!r.error && /^no crontab for /m.test(r.stderr)) return [];
  throw new LifeboatError(
    'TIMER_FAILED',
    `\`crontab -l\` failed: ${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}.`,
    'Check that this user may use cron (/etc/cron.allow, /etc/cron.deny), or install a systemd timer (--method user or system).',
  );
}

/** Replaces the user's crontab, or removes it when no line is left (as it was before Lifeboat's). */
function writeCrontab(crontab: string, lines: string[]): void {
  const r = lines.length ? spawnSync(crontab, ['-'], { input: `${lines.join('\n')}\n`, encoding: 'utf8', timeout: 30_000 }) : spawnSync(crontab, ['-r'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0)
    throw new LifeboatError(
      'TIMER_FAILED',
      `\`crontab ${lines.length ? '-' : '-r'}\` failed: ${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}.`,
      'Check that this user may use cron (/etc/cron.allow, /etc/cron.deny); the crontab was not changed.',
    );
}

/** Puts the line in the user's crontab in place of any earlier one of Lifeboat's; false when it was there already. */
export function installCronLine(crontab: string, line: string): boolean {
  const lines = readCrontab(crontab);
  const others = lines.filter((l) => !isOurs(l));
  if (others.length === lines.length - 1 && lines.includes(line)) return false;
  writeCrontab(crontab, [...others, line]);
  return true;
}

/** Lifeboat's line in the user's crontab, or null. */
export function findCronLine(crontab: string): string | null {
  return readCrontab(crontab).find(isOurs) ?? null;
}

/** Deletes Lifeboat's line (and only it); returns the line deleted, or null when there was none. */
export function removeCronLine(crontab: string): string | null {
  const lines = readCrontab(crontab);
  const ours = lines.find(isOurs);
  if (ours === undefined) return null;
  writeCrontab(
    crontab,
    lines.filter((l) => !isOurs(l)),
  );
  return ours;
}

/** Whether a cron daemon seems to run (Debian's cron and cronie write this file); a line in a crontab does nothing without one. */
export function cronDaemonSeen(): boolean {
  return existsSync('/run/crond.pid') || existsSync('/var/run/crond.pid');
}
