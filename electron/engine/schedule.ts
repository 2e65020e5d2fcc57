import { Cron } from 'croner';
import type { Schedule } from '../../shared/environment.js';

/** Pure answers about a schedule: which slots passed, which comes next. No timers run here. */

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A run that starts this long after its slot is reported as late. */
export const LATE_AFTER_MS = 15 * 60_000;
/** Counting missed slots stops here (an every-minute schedule over a month off): read it as "at least". */
export const MISSED_CAP = 1000;

export type ScheduleSpec = Pick<Schedule, 'at' | 'timezone'>;

type Parsed = { pattern: string; words: string } | { problem: string };

function clock(hh: string | undefined, mm: string | undefined): { h: number; m: number } | null {
  if (hh === undefined) return { h: 0, m: 0 };
  const h = Number(hh);
  const m = Number(mm);
  return h <= 23 && m <= 59 ? { h, m } : null;
}

const two = (n: number) => String(n).padStart(2, '0');

/**
 * The cron pattern of a preset (`hourly`, `daily 02:00`, `weekly mon 02:00`, `monthly 1 02:00`;
 * a preset without a time runs at 00:00) or of a five-field cron expression, checked by croner.
 */
export function parseSchedule(spec: ScheduleSpec): Parsed {
  const at = spec.at.trim().toLowerCase().replace(/\s+/g, ' ');
  const time = '(?: (\\d{1,2}):(\\d{2}))?';
  let m: RegExpExecArray | null;
  let parsed: Parsed;
  if (at === 'hourly') parsed = { pattern: '0 * * * *', words: 'every hour, on the hour' };
  else if ((m = new RegExp(`^daily${time}$`).exec(at))) {
    const c = clock(m[1], m[2]);
    parsed = c ? { pattern: `${c.m} ${c.h} * * *`, words: `every day at ${two(c.h)}:${two(c.m)}` } : { problem: 'the time must be HH:MM between 00:00 and 23:59' };
  } else if ((m = new RegExp(`^weekly(?: (${DAYS.join('|')})[a-z]*)?${time}$`).exec(at))) {
    const day = DAYS.indexOf((m[1] ?? 'sun') as (typeof DAYS)[number]);
    const c = clock(m[2], m[3]);
    parsed = c ? { pattern: `${c.m} ${c.h} * * ${day}`, words: `every ${DAY_NAMES[day]} at ${two(c.h)}:${two(c.m)}` } : { problem: 'the time must be HH:MM between 00:00 and 23:59' };
  } else if ((m = new RegExp(`^monthly(?: (\\d{1,2}))?${time}$`).exec(at))) {
    const day = Number(m[1] ?? 1);
    const c = clock(m[2], m[3]);
    if (day < 1 || day > 28) parsed = { problem: 'the day of the month must be 1 to 28, so that every month has it' };
    else parsed = c ? { pattern: `${c.m} ${c.h} ${day} * *`, words: `on day ${day} of every month at ${two(c.h)}:${two(c.m)}` } : { problem: 'the time must be HH:MM between 00:00 and 23:59' };
  } else if (/^[a-z]/.test(at) && !at.startsWith('@')) {
    return { problem: `"${spec.at}" is neither a preset (hourly, daily 02:00, weekly mon 02:00, monthly 1 02:00) nor a cron expression` };
  } else {
    parsed = { pattern: spec.at.trim(), words: `at cron "${spec.at.trim()}"` };
  }
  if ('problem' in parsed) return parsed;
  try {
    const cron = compile(parsed.pattern, spec.timezone);
    if (!cron.nextRun(new Date(0))) return { problem: 'the expression never runs' };
  } catch (err) {
    return { problem: `not a valid cron expression (minute hour day-of-month month day-of-week): ${(err as Error).message.replace(/^CronPattern: /, '')}` };
  }
  return { pattern: parsed.pattern, words: `${parsed.words} (${spec.timezone ?? 'local time'})` };
}

function compile(pattern: string, timezone: string | undefined): Cron {
  return new Cron(pattern, { timezone, mode: pattern.startsWith('@') ? 'auto' : '5-part' });
}

function cronOf(spec: ScheduleSpec): Cron {
  const parsed = parseSchedule(spec);
  if ('problem' in parsed) throw new Error(`schedule "${spec.at}": ${parsed.problem}`);
  return compile(parsed.pattern, spec.timezone);
}

/** The schedule in words: `every day at 02:00 (UTC)`. */
export function describeSchedule(spec: ScheduleSpec): string {
  const parsed = parseSchedule(spec);
  return 'problem' in parsed ? `invalid schedule "${spec.at}"` : parsed.words;
}

/** The latest slot at or before `at`, or null when there was none. */
export function previousSlot(spec: ScheduleSpec, at: Date): Date | null {
  return cronOf(spec).previousRuns(1, new Date(at.getTime() + 1))[0] ?? null;
}

/** The first slot strictly after `at`. */
export function nextSlot(spec: ScheduleSpec, at: Date): Date | null {
  return cronOf(spec).nextRun(at);
}

/** Slots strictly after `from` and strictly before `to`, counted up to a cap. */
function slotsBetween(spec: ScheduleSpec, from: Date, to: Date): number {
  let n = 0;
  for (const slot of cronOf(spec).enumerate(from)) {
    if (slot >= to || n >= MISSED_CAP) break;
    n++;
  }
  return n;
}

export interface DueSlot {
  slot: Date;
  late: boolean;
  lateByMs: number;
  missedSlots: number;
}

/**
 * Whether a scheduled run is due at `now`: the latest slot has passed and nothing has run for it
 * since `since` (the later of the last slot handled and the last successful backup's start). A
 * machine that was off for many slots runs once, for the latest, and says how many it missed.
 */
export function dueSlot(spec: ScheduleSpec, since: Date | null, now: Date): DueSlot | null {
  const slot = previousSlot(spec, now);
  if (!slot || (since && since.getTime() >= slot.getTime())) return null;
  const lateByMs = now.getTime() - slot.getTime();
  const missedSlots = since ? slotsBetween(spec, since, slot) : 0;
  return { slot, late: lateByMs > LATE_AFTER_MS || missedSlots > 0, lateByMs, missedSlots };
}

/**
 * The slot a successful backup should have followed by now (the latest slot at least `grace`
 * ago), when the last success started before it; null when the environment is not overdue.
 */
export function overdueSlot(spec: ScheduleSpec, graceMinutes: number, lastSuccess: Date | null, now: Date): Date | null {
  const expected = previousSlot(spec, new Date(now.getTime() - graceMinutes * 60_000));
  if (!expected) return null;
  return !lastSuccess || lastSuccess.getTime() < expected.getTime() ? expected : null;
}
