import type { EnvironmentSummary } from '../../../shared/api.js';

export type Dot = 'green' | 'amber' | 'red';

/** The sidebar's status dot and the words that go with it (a dot is never the only signal). */
export function healthOf(env: EnvironmentSummary): { dot: Dot; words: string } {
  if (env.lastDrill && !env.lastDrill.passed) return { dot: 'red', words: 'last check failed' };
  if (!env.lastBackupAt) return { dot: 'amber', words: 'never backed up' };
  if (!env.lastDrill) return { dot: 'amber', words: 'no backup checked yet' };
  if (Date.parse(env.lastDrill.at) < Date.parse(env.lastBackupAt)) return { dot: 'amber', words: 'newest backup not checked' };
  return { dot: 'green', words: 'backed up and checked' };
}
