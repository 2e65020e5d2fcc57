import type { EnvironmentSummary } from '../../../shared/api.js';
import type { EnvironmentStatus } from '../../../shared/status.js';

export type Dot = 'green' | 'amber' | 'red';

/** The sidebar's status dot and the words that go with it (a dot is never the only signal). */
export function healthOf(env: EnvironmentSummary, status?: EnvironmentStatus): { dot: Dot; words: string } {
  const dot: Dot = env.health.level === 'fail' ? 'red' : env.health.level === 'warn' ? 'amber' : 'green';
  const first = status?.alerts[0];
  if (first) {
    const words = WORDS[first.code] ?? shorten(first.message);
    return { dot, words: status.alerts.length > 1 ? `${words} (+${status.alerts.length - 1})` : words };
  }
  if (env.health.alerts > 0) return { dot, words: `${env.health.alerts} ${env.health.alerts === 1 ? 'thing needs' : 'things need'} attention` };
  if (!env.lastBackupAt) return { dot, words: 'no backup yet' };
  // Quiet health says only what is true: a backup that no drill has restored is not called checked.
  if (!env.lastDrill) return { dot, words: 'backed up, not checked yet' };
  if (status?.lastSet && status.lastDrill && status.lastSet.id !== status.lastDrill.setId) return { dot, words: 'newest backup not checked yet' };
  return { dot, words: 'backed up and checked' };
}

/** A few words per alert for the sidebar; the overview shows the whole message and what to do. */
const WORDS: Record<string, string> = {
  NO_BACKUP: 'never backed up',
  OVERDUE: 'backup overdue',
  LAST_BACKUP_FAILED: 'last backup failed',
  DRILL_FAILED: 'last check failed',
  DRILL_TOO_OLD: 'last check too old',
  SIZE_ANOMALY: 'size changed sharply',
  SLOW_RUN: 'backup ran slow',
  LOW_SPACE: 'backup disk nearly full',
  LOCATION_MISSING: 'backup folder missing',
};

/** The alert's headline: the words before its first colon ("Backup overdue"), or its start. */
function shorten(message: string): string {
  const head = message.split(':')[0]!;
  return head.length > 60 ? `${head.slice(0, 57)}…` : head;
}
