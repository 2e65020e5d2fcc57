import { describe, expect, it } from 'vitest';
import { Environment } from '../../shared/environment.js';
import { describeSchedule, dueSlot, nextSlot, overdueSlot, parseSchedule, previousSlot } from '../../electron/engine/schedule.js';
import { parseEnvironment } from '../../electron/engine/environment-file.js';

const utc = (at: string) => ({ at, timezone: 'UTC' });
const t = (iso: string) => new Date(iso);

describe('schedule presets and cron expressions', () => {
  it('turns presets into cron patterns and words', () => {
    expect(parseSchedule(utc('hourly'))).toEqual({ pattern: '0 * * * *', words: 'every hour, on the hour (UTC)' });
    expect(parseSchedule(utc('daily 02:00'))).toEqual({ pattern: '0 2 * * *', words: 'every day at 02:00 (UTC)' });
    expect(parseSchedule(utc('Weekly Monday 3:30'))).toEqual({ pattern: '30 3 * * 1', words: 'every Monday at 03:30 (UTC)' });
    expect(parseSchedule(utc('monthly 15 23:45'))).toEqual({ pattern: '45 23 15 * *', words: 'on day 15 of every month at 23:45 (UTC)' });
    expect(parseSchedule(utc('*/15 8-18 * * 1-5'))).toEqual({ pattern: '*/15 8-18 * * 1-5', words: 'at cron "*/15 8-18 * * 1-5" (UTC)' });
    expect(describeSchedule({ at: 'daily 02:00', timezone: 'Europe/Berlin' })).toBe('every day at 02:00 (Europe/Berlin)');
  });

  it('names what is wrong with a bad one', () => {
    expect(parseSchedule(utc('daily 25:00'))).toEqual({ problem: 'the time must be HH:MM between 00:00 and 23:59' });
    expect(parseSchedule(utc('monthly 31'))).toEqual({ problem: 'the day of the month must be 1 to 28, so that every month has it' });
    expect(parseSchedule(utc('every tuesday'))).toMatchObject({ problem: expect.stringContaining('neither a preset') });
    expect(parseSchedule(utc('61 * * * *'))).toMatchObject({ problem: expect.stringContaining('Invalid value for minute: 61') });
    expect(parseSchedule(utc('0 0 2 * * *'))).toMatchObject({ problem: expect.stringContaining('requires exactly 5 parts') });
  });

  it('an environment file with a bad schedule or time zone is refused with field paths', () => {
    const base = { name: 'prod', app: 'shop', location: '/tmp/x', sources: [{ kind: 'sqlite', name: 'db', path: '/tmp/y.db' }] };
    expect(() => parseEnvironment({ ...base, schedule: { at: 'daily 2am' } }, '/')).toThrow(/schedule\.at: "daily 2am" is neither a preset/);
    expect(() => parseEnvironment({ ...base, schedule: { at: 'hourly', timezone: 'Mars/Olympus' } }, '/')).toThrow(/schedule\.timezone: use an IANA time zone/);
    const env = parseEnvironment({ ...base, schedule: { at: 'daily 02:00' }, retention: { keepLast: 7 } }, '/');
    expect(env.schedule).toEqual({ at: 'daily 02:00', drillAfter: true, pruneAfter: false, graceMinutes: 60 });
    expect(env.retention).toEqual({ keepLast: 7, safetyKeepDays: 7 });
    // Files written before these fields existed stay valid.
    expect(Environment.parse(base).schedule).toBeUndefined();
  });
});

describe('slots', () => {
  const daily = utc('daily 02:00');

  it('the slot at the very instant counts as passed; the next is strictly after', () => {
    expect(previousSlot(daily, t('2026-11-22T02:00:00Z'))).toEqual(t('2026-11-22T02:00:00Z'));
    expect(previousSlot(daily, t('2026-11-22T01:59:59Z'))).toEqual(t('2026-11-21T02:00:00Z'));
    expect(nextSlot(daily, t('2026-11-22T02:00:00Z'))).toEqual(t('2026-11-23T02:00:00Z'));
  });

  it('follows the time zone across a daylight-saving change', () => {
    const berlin = { at: 'daily 02:30', timezone: 'Europe/Berlin' };
    expect(nextSlot(berlin, t('2026-10-23T12:00:00Z'))).toEqual(t('2026-10-24T00:30:00Z')); // summer time: UTC+2
    expect(nextSlot(berlin, t('2026-10-24T12:00:00Z'))).toEqual(t('2026-10-25T00:30:00Z')); // 02:30 happens twice that night: once
    expect(nextSlot(berlin, t('2026-10-25T00:30:00Z'))).toEqual(t('2026-10-26T01:30:00Z')); // winter time: UTC+1
  });

  it('is due once the slot passed with nothing run since; not again once it ran', () => {
    expect(dueSlot(daily, t('2026-11-21T02:00:05Z'), t('2026-11-22T02:03:00Z'))).toEqual({ slot: t('2026-11-22T02:00:00Z'), late: false, lateByMs: 180_000, missedSlots: 0 });
    expect(dueSlot(daily, t('2026-11-22T02:00:05Z'), t('2026-11-22T02:10:00Z'))).toBeNull();
    expect(dueSlot(daily, t('2026-11-22T02:00:00Z'), t('2026-11-22T23:00:00Z'))).toBeNull();
  });

  it('after days off runs once, for the latest slot, and says how late and how many were missed', () => {
    expect(dueSlot(daily, t('2026-11-18T02:00:04Z'), t('2026-11-22T09:30:00Z'))).toEqual({ slot: t('2026-11-22T02:00:00Z'), late: true, lateByMs: 7.5 * 3_600_000, missedSlots: 3 });
    expect(dueSlot(utc('hourly'), null, t('2026-11-22T09:30:00Z'))).toMatchObject({ slot: t('2026-11-22T09:00:00Z'), late: true, missedSlots: 0 });
  });

  it('is overdue only when the latest slot plus the grace passed without a successful backup after it', () => {
    const now = t('2026-11-22T02:59:00Z');
    expect(overdueSlot(daily, 60, t('2026-11-21T02:00:10Z'), now)).toBeNull(); // today's slot is still within its grace
    expect(overdueSlot(daily, 60, t('2026-11-21T02:00:10Z'), t('2026-11-22T03:00:00Z'))).toEqual(t('2026-11-22T02:00:00Z'));
    expect(overdueSlot(daily, 60, t('2026-11-22T02:00:10Z'), t('2026-11-22T09:00:00Z'))).toBeNull();
    expect(overdueSlot(daily, 60, null, now)).toEqual(t('2026-11-21T02:00:00Z'));
  });
});
