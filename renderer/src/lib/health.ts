import type { EnvironmentSummary } from '../../../shared/api.js';
import type { EnvironmentStatus } from '../../../shared/status.js';

export type Dot = 'green' | 'amber' | 'red';

/** The sidebar's status dot and the words that go with it (a dot is never the only signal). */
export function healthOf(env: EnvironmentSummary, status?: EnvironmentStatus): { dot: Dot; words: string } {
  const dot: Dot = env.health.level === 'fail' ? 'red' : env.health.level === 'warn' ? 'amber' : 'green';
  const first = status?.alerts[0];
  if (first) return { dot, words: status.alerts.length > 1 ? `${shorten(first.message)} (+${status.alerts.length - 1})` : shorten(first.message) };
  if (env.health.alerts > 0) return { dot, words: `${env.health.alerts} ${env.health.alerts === 1 ? 'thing needs' : 'things need'} attention` };
  return { dot, words: 'backed up and checked' };
}

/** The alert's headline: the words before its first colon ("Backup overdue"), or its start. */
function shorten(message: string): string {
  const head = message.split(':')[0]!;
  return head.length > 60 ? `${head.slice(0, 57)}…` : head;
}
