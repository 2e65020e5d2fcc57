import { describe, expect, it } from 'vitest';
import { AlertNotifier } from '../../electron/app-notify.js';
import type { StatusResult } from '../../shared/status.js';
import type { RunDueResult } from '../../shared/schedule.js';

const status = (alerts: { code: string; severity: 'warn' | 'fail'; message: string }[]): StatusResult =>
  ({
    checkedAt: '2026-11-22T06:00:00Z',
    level: alerts.length ? 'fail' : 'ok',
    environments: [
      {
        env: 'shop/prod',
        level: alerts.length ? 'fail' : 'ok',
        alerts: alerts.map((a) => ({ ...a, hint: 'Back up now.' })),
        lastSet: null,
        lastDrill: null,
        schedule: null,
        nextDueAt: null,
        space: null,
        series: [],
      },
    ],
  }) as StatusResult;

describe('the desktop notifications', () => {
  it('tells each alert once while it lasts, and again if it comes back', () => {
    const n = new AlertNotifier();
    const overdue = { code: 'OVERDUE', severity: 'fail' as const, message: 'Backup overdue.' };
    expect(n.alerts(status([overdue]))).toEqual([{ title: 'Lifeboat: shop / prod needs action', body: 'Backup overdue. Back up now.' }]);
    expect(n.alerts(status([overdue]))).toEqual([]);
    expect(n.alerts(status([]))).toEqual([]);
    expect(n.alerts(status([overdue]))).toHaveLength(1);
  });

  it('tells a failed or late scheduled run, and keeps quiet about one that went well', () => {
    const n = new AlertNotifier();
    const run = (outcome: 'success' | 'failed', late: boolean): RunDueResult =>
      ({
        now: '2026-11-22T06:00:00Z',
        ran: [
          {
            env: 'shop/prod',
            slot: '2026-11-22T02:00:00Z',
            late,
            lateByMs: late ? 4 * 3600_000 : 0,
            missedSlots: late ? 1 : 0,
            steps: [
              {
                kind: 'backup',
                outcome,
                setId: null,
                summary: outcome === 'failed' ? 'Backup failed' : 'Sealed',
                ...(outcome === 'failed' ? { error: { code: 'DISK_FULL', message: 'The disk is full.', hint: 'Free space.' } } : {}),
              },
            ],
          },
        ],
        next: [],
      }) as unknown as RunDueResult;
    expect(n.runs(run('success', false))).toEqual([]);
    expect(n.runs(run('success', true))[0]!.body).toMatch(/240 min late/);
    expect(n.runs(run('failed', false))).toEqual([{ title: 'Lifeboat: scheduled work of shop / prod failed', body: 'backup: The disk is full.' }]);
  });
});
