import { describe, expect, it } from 'vitest';
import type { EnvironmentSummary } from '../../shared/api.js';
import type { EnvironmentStatus } from '../../shared/status.js';
import { healthOf } from '../../renderer/src/lib/health.js';

const env = (over: Partial<EnvironmentSummary> = {}): EnvironmentSummary => ({
  key: 'shop/prod',
  app: 'shop',
  name: 'prod',
  protection: 'protected',
  location: '/backups',
  sources: 2,
  sets: 3,
  lastBackupAt: '2026-11-22T02:00:10Z',
  lastDrill: { setId: 'shop_prod_20261122_020000', at: '2026-11-22T02:01:00Z', passed: true },
  health: { level: 'ok', alerts: 0 },
  confirmAs: 'prod',
  ...over,
});
const status = (over: Partial<EnvironmentStatus> = {}): EnvironmentStatus => ({
  env: 'shop/prod',
  level: 'ok',
  alerts: [],
  lastSet: { id: 'shop_prod_20261122_020000', finishedAt: '2026-11-22T02:00:10Z', sizeBytes: 1000, durationMs: 900 },
  lastDrill: { setId: 'shop_prod_20261122_020000', at: '2026-11-22T02:01:00Z', passed: true },
  schedule: null,
  nextDueAt: null,
  space: null,
  series: [],
  ...over,
});

describe('the sidebar words', () => {
  it('calls an environment checked only when a drill has restored its newest backup', () => {
    expect(healthOf(env(), status())).toEqual({ dot: 'green', words: 'backed up and checked' });
    expect(healthOf(env({ lastDrill: null }), status({ lastDrill: null })).words).toBe('backed up, not checked yet');
    const older = { setId: 'shop_prod_20261121_020000', at: '2026-11-21T02:01:00Z', passed: true };
    expect(healthOf(env({ lastDrill: older }), status({ lastDrill: older })).words).toBe('newest backup not checked yet');
    expect(healthOf(env({ lastBackupAt: null, lastDrill: null, sets: 0 })).words).toBe('no backup yet');
  });

  it('names the first alert in a few words, counts the rest, and colours the dot by the worst level', () => {
    const alerts: EnvironmentStatus['alerts'] = [
      { code: 'OVERDUE', severity: 'fail', message: 'Backup overdue: the last one is 3 days old.', hint: 'Back up now.' },
      { code: 'LOW_SPACE', severity: 'warn', message: 'The backup disk has 2% free.', hint: 'Free space.' },
    ];
    expect(healthOf(env({ health: { level: 'fail', alerts: 2 } }), status({ level: 'fail', alerts }))).toEqual({ dot: 'red', words: 'backup overdue (+1)' });
    // Before the health is read, the count from the list is all there is.
    expect(healthOf(env({ health: { level: 'warn', alerts: 1 } }))).toEqual({ dot: 'amber', words: '1 thing needs attention' });
  });
});
