import { describe, expect, it } from 'vitest';
import type { SetSummary } from '../../shared/api.js';
import { Environment } from '../../shared/environment.js';
import { EnvironmentStatus } from '../../shared/status.js';
import { assess, type MonitorInput } from '../../electron/engine/monitoring.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const HOUR = 3_600_000;

function env(extra: Record<string, unknown> = {}): Environment {
  return Environment.parse({ name: 'prod', app: 'shop', location: '/srv/backups', sources: [{ kind: 'sqlite', name: 'db', path: '/srv/shop.db' }], ...extra });
}

/** Daily sets, newest first, the newest `hoursAgo` old; sizes and durations as given (oldest first). */
function sets(sizes: number[], durations: number[] = sizes.map(() => 20_000), hoursAgo = 10, drill: SetSummary['drill'] = null): SetSummary[] {
  return sizes
    .map((sizeBytes, i) => {
      const started = new Date(NOW.getTime() - hoursAgo * HOUR - (sizes.length - 1 - i) * 24 * HOUR);
      return {
        id: `shop_prod_${i}`,
        env: 'shop/prod',
        path: `/srv/backups/shop_prod_${i}`,
        label: null,
        startedAt: started.toISOString(),
        finishedAt: new Date(started.getTime() + durations[i]!).toISOString(),
        durationMs: durations[i]!,
        sizeBytes,
        artifacts: 2,
        drill: i === sizes.length - 1 ? drill : null,
        pinned: false,
      };
    })
    .reverse();
}

function input(over: Partial<MonitorInput>): MonitorInput {
  return { env: env(), sets: [], lastAttempt: null, space: { freeBytes: 500e9, totalBytes: 1000e9 }, locationMissing: false, now: NOW, ...over };
}

const codes = (s: EnvironmentStatus) => s.alerts.map((a) => a.code);

describe('monitoring', () => {
  it('a healthy scheduled environment is ok, with its next slot and chart series oldest first', () => {
    const s = EnvironmentStatus.parse(
      assess(input({ env: env({ schedule: { at: 'daily 02:00', timezone: 'UTC' } }), sets: sets([100, 101, 99, 100], undefined, 10, { at: NOW.toISOString(), passed: true }) })),
    );
    expect(s.level).toBe('ok');
    expect(s.alerts).toEqual([]);
    expect(s.nextDueAt).toBe('2026-11-23T02:00:00.000Z');
    expect(s.schedule).toBe('every day at 02:00 (UTC)');
    expect(s.series.map((p) => p.sizeBytes)).toEqual([100, 101, 99, 100]);
    expect(s.lastSet?.id).toBe('shop_prod_3');
  });

  it('overdue: no backup since the slot plus its grace is a failure that names the slot and what to do', () => {
    const s = assess(input({ env: env({ schedule: { at: 'daily 02:00', timezone: 'UTC' } }), sets: sets([100, 100], undefined, 34) }));
    expect(s.level).toBe('fail');
    const overdue = s.alerts.find((a) => a.code === 'OVERDUE')!;
    expect(overdue.message).toBe('Backup overdue: The last successful backup started 2026-11-21 02:00 UTC; the schedule, every day at 02:00 (UTC), expected one at 2026-11-22 02:00 UTC, 10 h ago.');
    expect(overdue.hint).toContain('lifeboat backup --env prod');
  });

  it('a set much smaller than the median of the last ten is explained on its point and raised as an alert', () => {
    const sizes = [100e6, 102e6, 98e6, 101e6, 99e6, 100e6, 103e6, 97e6, 100e6, 100e6, 100e6, 62e6];
    const s = assess(input({ sets: sets(sizes) }));
    expect(s.series.at(-1)!.anomalies).toEqual([{ kind: 'size', message: '38% smaller than the median of the last 10 (62 MB against 100 MB)' }]);
    expect(s.series.slice(0, -1).every((p) => p.anomalies.length === 0)).toBe(true);
    expect(s.alerts).toEqual([
      expect.objectContaining({ code: 'SIZE_ANOMALY', severity: 'warn', message: 'The newest set shop_prod_11 is 38% smaller than the median of the last 10 (62 MB against 100 MB).' }),
    ]);
    expect(s.level).toBe('warn');
    const bigger = assess(input({ sets: sets([10e6, 10e6, 10e6, 31e6]) }));
    expect(bigger.series.at(-1)!.anomalies[0]!.message).toBe('3.1 times the median of the last 3 (31 MB against 10 MB)');
    expect(assess(input({ sets: sets([10e6, 10e6, 7e6]) })).series.at(-1)!.anomalies).toEqual([]); // too little history
  });

  it('a much slower run is an anomaly; a few milliseconds more is not', () => {
    const slow = assess(input({ sets: sets([1, 1, 1, 1, 1], [20_000, 21_000, 19_000, 20_000, 95_000]) }));
    expect(slow.alerts.map((a) => a.message)).toEqual(['The newest backup took 4.8 times as long as the median of the last 4 (1 min 35 s against 20.0 s).']);
    expect(codes(assess(input({ sets: sets([1, 1, 1, 1, 1], [20, 21, 19, 20, 900]) })))).toEqual([]);
  });

  it('the last drill failed, a drill too old, the last backup failed', () => {
    const failedDrill = assess(input({ sets: sets([1, 1], undefined, 10, { at: '2026-11-22T03:00:00Z', passed: false }) }));
    expect(codes(failedDrill)).toEqual(['DRILL_FAILED']);
    expect(failedDrill.level).toBe('fail');
    const old = assess(input({ sets: sets([1, 1], undefined, 10, { at: '2026-11-01T03:00:00Z', passed: true }) }));
    expect(old.alerts.map((a) => a.message)).toEqual(['No drill has passed for 21 days (the limit is 14 days).']);
    const never = assess(input({ sets: sets(Array(20).fill(1)) }));
    expect(never.alerts[0]!.message).toMatch(/^No backup of shop\/prod has passed a drill, and the first was made 19 days ago\.$/);
    const attempt = { at: '2026-11-22T11:00:00Z', outcome: 'failed', summary: 'Disk full while writing /srv/backups.' };
    const failed = assess(input({ sets: sets([1, 1]), lastAttempt: attempt }));
    expect(failed.alerts).toEqual([
      expect.objectContaining({ code: 'LAST_BACKUP_FAILED', severity: 'fail', message: 'The last backup failed (2026-11-22 11:00 UTC): Disk full while writing /srv/backups.' }),
    ]);
    // A refused backup made no set either (a location gone, a lock held): it alerts the same; a cancel does not.
    const refused = { at: '2026-11-22T11:00:00Z', outcome: 'refused', summary: 'The backup location /srv/backups cannot be listed (ENOENT).' };
    expect(codes(assess(input({ sets: sets([1, 1]), lastAttempt: refused })))).toEqual(['LAST_BACKUP_FAILED']);
    expect(codes(assess(input({ sets: sets([1, 1]), lastAttempt: { ...refused, outcome: 'cancelled' } })))).toEqual([]);
    // A success after the failure clears it.
    expect(codes(assess(input({ sets: sets([1, 1], undefined, 0.5), lastAttempt: { ...attempt, at: '2026-11-22T10:00:00Z' } })))).toEqual([]);
  });

  it('low free space by percent (default 5%), by bytes, and when the next set would not fit', () => {
    expect(assess(input({ space: { freeBytes: 40e9, totalBytes: 1000e9 } })).alerts[1]).toMatchObject({
      code: 'LOW_SPACE',
      message: 'Low free space where the sets go: 40 GB free (4.0% of the disk, below 5%).',
    });
    const bytes = assess(input({ env: env({ alerts: { minFreeBytes: 100e9 } }), space: { freeBytes: 60e9, totalBytes: 1000e9 } }));
    expect(bytes.alerts.find((a) => a.code === 'LOW_SPACE')!.message).toBe('Low free space where the sets go: 60 GB free (below the threshold of 100 GB).');
    const fit = assess(input({ sets: sets([80e9, 80e9]), space: { freeBytes: 70e9, totalBytes: 1000e9 } }));
    expect(fit.alerts.find((a) => a.code === 'LOW_SPACE')!.message).toContain('less than the last set (80 GB), so the next backup may not fit');
  });

  it('a missing location with recorded sets fails; an environment never backed up is a warning', () => {
    expect(assess(input({ sets: sets([1]), locationMissing: true, space: null })).alerts[0]).toMatchObject({ code: 'LOCATION_MISSING', severity: 'fail' });
    const fresh = assess(input({}));
    expect(fresh.alerts).toEqual([expect.objectContaining({ code: 'NO_BACKUP', severity: 'warn', message: 'shop/prod has no backup yet.' })]);
  });

  it('a location the environment was moved to is new: missing, it alerts only for the sets recorded in it', () => {
    const moved = env({ location: '/mnt/new-disk/sets' });
    expect(codes(assess(input({ env: moved, sets: sets([1, 1]), locationMissing: true, space: null })))).toEqual([]);
    const one = [...sets([1]).map((s) => ({ ...s, path: `/mnt/new-disk/sets/${s.id}` })), ...sets([1, 1])];
    expect(assess(input({ env: moved, sets: one, locationMissing: true, space: null })).alerts[0]).toMatchObject({
      code: 'LOCATION_MISSING',
      message: expect.stringContaining('though 1 set was recorded there'),
    });
  });
});
