import type { SetSummary } from '../../shared/api.js';
import { Alerts, environmentKey, type Environment } from '../../shared/environment.js';
import { count, formatBytes, formatDuration } from '../../shared/format.js';
import { PRE_RESTORE_LABEL } from '../../shared/retention.js';
import type { Alert, EnvironmentStatus, HealthLevel, SeriesPoint } from '../../shared/status.js';
import { describeSchedule, nextSlot, overdueSlot } from './schedule.js';
import { whereIsSet } from './store/index.js';

/** How many earlier sets the median is taken over, and how many it needs at least. */
const HISTORY = 10;
const MIN_HISTORY = 3;
/** A slow run must also be this much slower than the median, so that 50 ms against 15 ms is no alarm. */
const SLOW_MIN_EXTRA_MS = 10_000;
/** With neither threshold set, warn below this share of the disk free. */
const DEFAULT_MIN_FREE_PERCENT = 5;
const DAY_MS = 86_400_000;

/** Everything the alerts are computed from; gathered by the engine, judged here without touching a disk. */
export interface MonitorInput {
  env: Environment;
  /** The environment's sets, newest first, each with its latest drill. */
  sets: SetSummary[];
  /** The latest backup attempt in the activity log, whatever its outcome. */
  lastAttempt: { at: string; outcome: string; summary: string } | null;
  /** The disk of the location (or of its nearest existing parent); null when it could not be measured. */
  space: { freeBytes: number; totalBytes: number } | null;
  /** The location folder does not exist or cannot be read. */
  locationMissing: boolean;
  now: Date;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A span as an operator reads it: `40 min`, `3 h 10 min`, `9 days`. */
export function span(ms: number): string {
  const min = Math.floor(Math.max(0, ms) / 60_000);
  if (min < 1) return 'less than a minute';
  if (min < 60) return `${min} min`;
  if (min < 48 * 60) return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
  return `${Math.floor(min / 1440)} days`;
}

function ago(ms: number): string {
  return `${span(ms)} ago`;
}

function utc(at: Date | string): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Size and duration anomalies of each regular set against the median of up to ten before it. */
export function seriesOf(regularOldestFirst: SetSummary[], alerts: Alerts): SeriesPoint[] {
  return regularOldestFirst.map((s, i) => {
    const before = regularOldestFirst.slice(Math.max(0, i - HISTORY), i);
    const anomalies: SeriesPoint['anomalies'] = [];
    if (before.length >= MIN_HISTORY) {
      const of = `the median of the last ${before.length}`;
      const size = median(before.map((b) => b.sizeBytes));
      if (size > 0 && s.sizeBytes * alerts.sizeFactor < size) {
        anomalies.push({ kind: 'size', message: `${Math.round((1 - s.sizeBytes / size) * 100)}% smaller than ${of} (${formatBytes(s.sizeBytes)} against ${formatBytes(size)})` });
      } else if (size > 0 && s.sizeBytes > size * alerts.sizeFactor) {
        const ratio = s.sizeBytes / size;
        anomalies.push({
          kind: 'size',
          message: `${ratio < 2 ? `${Math.round((ratio - 1) * 100)}% larger than` : `${ratio.toFixed(1)} times`} ${of} (${formatBytes(s.sizeBytes)} against ${formatBytes(size)})`,
        });
      }
      const duration = median(before.map((b) => b.durationMs));
      if (s.durationMs > duration * alerts.durationFactor && s.durationMs - duration >= SLOW_MIN_EXTRA_MS) {
        anomalies.push({
          kind: 'duration',
          message: `took ${(s.durationMs / Math.max(duration, 1)).toFixed(1)} times as long as ${of} (${formatDuration(s.durationMs)} against ${formatDuration(duration)})`,
        });
      }
    }
    return { id: s.id, finishedAt: s.finishedAt, sizeBytes: s.sizeBytes, durationMs: s.durationMs, anomalies };
  });
}

/**
 * An environment's health as a pure function of its sets, drills, last attempt, free space and the
 * time: each alert says what is wrong and what to do; the level is the worst alert's.
 */
export function assess(input: MonitorInput): EnvironmentStatus {
  const { env, now } = input;
  const alerts: Alert[] = [];
  const thresholds = env.alerts ?? Alerts.parse({});
  const regular = input.sets.filter((s) => s.label !== PRE_RESTORE_LABEL);
  const newest = regular[0] ?? null;
  const cmd = `lifeboat backup --env ${env.name}`;

  // Only sets recorded in the current location make its absence an unmounted disk: a location the
  // environment was moved to is new, and empty until its first backup.
  const here = input.sets.filter((s) => whereIsSet(s.path).location === env.location).length;
  if (input.locationMissing && here) {
    alerts.push({
      code: 'LOCATION_MISSING',
      severity: 'fail',
      message: `The backup location ${env.location} is missing or cannot be read, though ${count(here, 'set')} ${here === 1 ? 'was' : 'were'} recorded there.`,
      hint: 'Mount the disk that holds it (or fix its permissions), then look again; if the sets were moved, point the environment at their new folder.',
    });
  }

  if (env.schedule) {
    const overdue = overdueSlot(env.schedule, env.schedule.graceMinutes, newest ? new Date(newest.startedAt) : null, now);
    if (overdue) {
      const since = newest ? `The last successful backup started ${utc(newest.startedAt)}` : 'There is no successful backup yet';
      alerts.push({
        code: 'OVERDUE',
        severity: 'fail',
        message: `Backup overdue: ${since}; the schedule, ${describeSchedule(env.schedule)}, expected one at ${utc(overdue)}, ${ago(now.getTime() - overdue.getTime())}.`,
        hint: `Back up now (${cmd}), and keep the schedule running: leave Lifeboat open, or install the system timer with lifeboat schedule install.`,
      });
    }
  } else if (!newest) {
    alerts.push({
      code: 'NO_BACKUP',
      severity: 'warn',
      message: `${environmentKey(env)} has no backup yet.`,
      hint: `Back up now (${cmd}), and give the environment a schedule so that it keeps happening.`,
    });
  }

  const attempt = input.lastAttempt;
  // A refused backup (a location gone, a lock held) made no set either; only a cancel was the operator's choice.
  if ((attempt?.outcome === 'failed' || attempt?.outcome === 'refused') && (!newest || Date.parse(attempt.at) >= Date.parse(newest.finishedAt))) {
    alerts.push({
      code: 'LAST_BACKUP_FAILED',
      severity: 'fail',
      message: `The last backup failed (${utc(attempt.at)}): ${attempt.summary}`,
      hint: `Fix what the message names, then back up again (${cmd}); the activity log has the details.`,
    });
  }

  const drilled = input.sets.filter((s) => s.drill).sort((a, b) => Date.parse(b.drill!.at) - Date.parse(a.drill!.at));
  const lastDrill = drilled[0] ? { setId: drilled[0].id, at: drilled[0].drill!.at, passed: drilled[0].drill!.passed } : null;
  if (lastDrill && !lastDrill.passed) {
    alerts.push({
      code: 'DRILL_FAILED',
      severity: 'fail',
      message: `The last drill, of ${lastDrill.setId} (${utc(lastDrill.at)}), failed: that set cannot be trusted to restore.`,
      hint: `Open its drill report for the failed checks, then back up and drill again (lifeboat drill --env ${env.name}).`,
    });
  }
  const lastPass = drilled.find((s) => s.drill!.passed);
  const limit = thresholds.drillMaxAgeDays * DAY_MS;
  if (regular.length) {
    const oldest = regular[regular.length - 1]!;
    if (lastPass && now.getTime() - Date.parse(lastPass.drill!.at) > limit) {
      alerts.push({
        code: 'DRILL_TOO_OLD',
        severity: 'warn',
        message: `No drill has passed for ${span(now.getTime() - Date.parse(lastPass.drill!.at))} (the limit is ${thresholds.drillMaxAgeDays} days).`,
        hint: `Drill the newest set (lifeboat drill --env ${env.name}), or let the schedule drill after each backup (schedule.drillAfter).`,
      });
    } else if (!lastPass && now.getTime() - Date.parse(oldest.finishedAt) > limit) {
      alerts.push({
        code: 'DRILL_TOO_OLD',
        severity: 'warn',
        message: `No backup of ${environmentKey(env)} has passed a drill, and the first was made ${ago(now.getTime() - Date.parse(oldest.finishedAt))}.`,
        hint: `Drill the newest set (lifeboat drill --env ${env.name}) to prove it restores.`,
      });
    }
  }

  const series = seriesOf([...regular].reverse(), thresholds);
  for (const a of series[series.length - 1]?.anomalies ?? []) {
    if (a.kind === 'size')
      alerts.push({
        code: 'SIZE_ANOMALY',
        severity: 'warn',
        message: `The newest set ${newest!.id} is ${a.message}.`,
        hint: 'Check that the sources still hold all their data (a missing folder or an emptied table shrinks a backup), then drill the set.',
      });
    else
      alerts.push({
        code: 'SLOW_RUN',
        severity: 'warn',
        message: `The newest backup ${a.message}.`,
        hint: 'Check the disk of the location and what else ran at the time; a source that grew a lot also slows the run.',
      });
  }

  const space = input.space;
  if (space) {
    const reasons: string[] = [];
    const percent = (100 * space.freeBytes) / Math.max(space.totalBytes, 1);
    const minPercent = thresholds.minFreePercent ?? (thresholds.minFreeBytes === undefined ? DEFAULT_MIN_FREE_PERCENT : undefined);
    if (thresholds.minFreeBytes !== undefined && space.freeBytes < thresholds.minFreeBytes) reasons.push(`below the threshold of ${formatBytes(thresholds.minFreeBytes)}`);
    if (minPercent !== undefined && percent < minPercent) reasons.push(`${percent.toFixed(1)}% of the disk, below ${minPercent}%`);
    if (newest && space.freeBytes < newest.sizeBytes) reasons.push(`less than the last set (${formatBytes(newest.sizeBytes)}), so the next backup may not fit`);
    if (reasons.length) {
      alerts.push({
        code: 'LOW_SPACE',
        severity: 'warn',
        message: `Low free space where the sets go: ${formatBytes(space.freeBytes)} free (${reasons.join('; ')}).`,
        hint: 'Free space on that disk: prune old sets (lifeboat prune --env NAME --dry-run shows what would go), or move the location to a larger disk.',
      });
    }
  }

  const level: HealthLevel = alerts.some((a) => a.severity === 'fail') ? 'fail' : alerts.length ? 'warn' : 'ok';
  const next = env.schedule ? nextSlot(env.schedule, now) : null;
  return {
    env: environmentKey(env),
    level,
    alerts,
    lastSet: newest ? { id: newest.id, finishedAt: newest.finishedAt, sizeBytes: newest.sizeBytes, durationMs: newest.durationMs } : null,
    lastDrill,
    schedule: env.schedule ? describeSchedule(env.schedule) : null,
    nextDueAt: next ? next.toISOString() : null,
    space,
    series,
  };
}

/** The worst of several levels. */
export function worst(levels: HealthLevel[]): HealthLevel {
  return levels.includes('fail') ? 'fail' : levels.includes('warn') ? 'warn' : 'ok';
}
