import { z } from 'zod';

/** App and environment names become part of set folder names, so they are kept plain. */
const plainName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'use 1 to 40 lowercase letters, digits or "-", starting with a letter or digit');

/** Source names become artifact file names; lowercase so that no two collide on macOS or Windows. */
const sourceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'use 1 to 40 lowercase letters, digits, "-" or "_", starting with a letter or digit');

const path = z.string().min(1, 'give a path');

export const SqliteSource = z.strictObject({
  kind: z.literal('sqlite'),
  name: sourceName,
  /** The live database file. */
  path,
});

export const FilesSource = z.strictObject({
  kind: z.literal('files'),
  name: sourceName,
  /** The folder to pack. */
  path,
  /** Globs relative to the folder; a file is taken when it matches one include and no exclude. */
  include: z.array(z.string().min(1)).min(1, 'give at least one glob, e.g. "**/*"').default(['**/*']),
  exclude: z.array(z.string().min(1)).default([]),
});

/** One thing to back up inside an environment; `postgres` and `command` join this union later. */
export const Source = z.discriminatedUnion('kind', [SqliteSource, FilesSource]);
export type Source = z.infer<typeof Source>;
export type SqliteSource = z.infer<typeof SqliteSource>;
export type FilesSource = z.infer<typeof FilesSource>;
export type SourceKind = Source['kind'];

export const Protection = z.enum(['normal', 'protected']);
export type Protection = z.infer<typeof Protection>;

const count = z.number().int().min(0, 'use 0 or more').max(100_000);

/**
 * Which sets a prune keeps. Rules keep sets; `maxAgeDays` caps them. Pinned sets, the newest set
 * and the newest set whose drill passed are kept whatever the rules say. Buckets are counted in
 * UTC, as set names are.
 */
export const Retention = z.strictObject({
  /** Keep the newest N sets. */
  keepLast: count.optional(),
  /** Keep the newest set of each of the last N hours (days, weeks, months, years) that have one. */
  hourly: count.optional(),
  daily: count.optional(),
  weekly: count.optional(),
  monthly: count.optional(),
  yearly: count.optional(),
  /** Prune sets older than this, even when a rule keeps them; alone, keeps every younger set. */
  maxAgeDays: z.number().positive().optional(),
  /** Pre-restore safety sets are kept this long, then pruned; they count for no other rule. */
  safetyKeepDays: z.number().min(0).default(7),
});
export type Retention = z.infer<typeof Retention>;

function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** When the scheduler backs an environment up, and what it does after. */
export const Schedule = z.strictObject({
  /** `hourly`, `daily 02:00`, `weekly mon 02:00`, `monthly 1 02:00`, or a five-field cron expression. */
  at: z.string().trim().min(1, 'give a time such as "daily 02:00" or a cron expression'),
  /** An IANA time zone (`Europe/Berlin`, `UTC`); the machine's own when absent. */
  timezone: z.string().refine(knownTimeZone, 'use an IANA time zone name such as "Europe/Berlin" or "UTC"').optional(),
  /** Drill the new set after each scheduled backup. */
  drillAfter: z.boolean().default(true),
  /** Prune by the retention policy after each scheduled backup (and its drill, when that passed). */
  pruneAfter: z.boolean().default(false),
  /** How long after a missed slot the environment counts as overdue. */
  graceMinutes: z.number().int().min(0).default(60),
});
export type Schedule = z.infer<typeof Schedule>;

/** Thresholds of the monitoring alerts; every field has a default. */
export const Alerts = z.strictObject({
  /** Warn when the location's disk has less free space than this (default: 5% when neither is given). */
  minFreeBytes: z.number().int().min(0).optional(),
  minFreePercent: z.number().min(0).max(100).optional(),
  /** A set this many times smaller or larger than the median of the last ten is an anomaly. */
  sizeFactor: z.number().gt(1, 'use a factor above 1, e.g. 1.5').default(1.5),
  /** A run this many times slower than the median of the last ten is an anomaly. */
  durationFactor: z.number().gt(1, 'use a factor above 1, e.g. 3').default(3),
  /** Warn when no drill has passed for this many days. */
  drillMaxAgeDays: z.number().positive().default(14),
});
export type Alerts = z.infer<typeof Alerts>;

/** The environment file an operator writes and `env import` reads. */
export const Environment = z.strictObject({
  name: plainName,
  app: plainName,
  protection: Protection.default('normal'),
  /** The folder that holds this environment's backup sets. */
  location: path,
  sources: z.array(Source).min(1, 'add at least one source'),
  retention: Retention.optional(),
  schedule: Schedule.optional(),
  alerts: Alerts.optional(),
});
export type Environment = z.infer<typeof Environment>;
/** What a file or a form may omit (defaults are filled in by the schema). */
export type EnvironmentInput = z.input<typeof Environment>;

/** `app/name`: unique across the catalog. */
export function environmentKey(env: Pick<Environment, 'app' | 'name'>): string {
  return `${env.app}/${env.name}`;
}
