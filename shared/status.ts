import { z } from 'zod';

/** `fail` needs action now (overdue, a failed backup or drill); `warn` needs a look. */
export const HealthLevel = z.enum(['ok', 'warn', 'fail']);
export type HealthLevel = z.infer<typeof HealthLevel>;

export const AlertCode = z.enum(['OVERDUE', 'LAST_BACKUP_FAILED', 'DRILL_FAILED', 'DRILL_TOO_OLD', 'SIZE_ANOMALY', 'SLOW_RUN', 'LOW_SPACE', 'LOCATION_MISSING', 'NO_BACKUP']);
export type AlertCode = z.infer<typeof AlertCode>;

/** One thing the operator should know, with what to do about it. */
export const Alert = z.object({
  code: AlertCode,
  severity: z.enum(['warn', 'fail']),
  message: z.string(),
  hint: z.string(),
});
export type Alert = z.infer<typeof Alert>;

/** Health in a sentence's worth: the sidebar's dot. */
export const Health = z.object({ level: HealthLevel, alerts: z.number().int() });
export type Health = z.infer<typeof Health>;

/** One set on the size and duration charts; `anomalies` explains a point that stands out. */
export const SeriesPoint = z.object({
  id: z.string(),
  finishedAt: z.string(),
  sizeBytes: z.number(),
  durationMs: z.number(),
  anomalies: z.array(z.object({ kind: z.enum(['size', 'duration']), message: z.string() })),
});
export type SeriesPoint = z.infer<typeof SeriesPoint>;

export const EnvironmentStatus = z.object({
  env: z.string(),
  level: HealthLevel,
  alerts: z.array(Alert),
  /** The newest regular set (pre-restore safety sets aside). */
  lastSet: z.object({ id: z.string(), finishedAt: z.string(), sizeBytes: z.number(), durationMs: z.number() }).nullable(),
  lastDrill: z.object({ setId: z.string(), at: z.string(), passed: z.boolean() }).nullable(),
  /** The schedule in words (`every day at 02:00 (UTC)`), and when it next runs; null without a schedule. */
  schedule: z.string().nullable(),
  nextDueAt: z.string().nullable(),
  /** The location's disk; null when it could not be measured. */
  space: z.object({ freeBytes: z.number(), totalBytes: z.number() }).nullable(),
  /** Regular sets, oldest first, for the charts. */
  series: z.array(SeriesPoint),
});
export type EnvironmentStatus = z.infer<typeof EnvironmentStatus>;

export const StatusResult = z.object({
  checkedAt: z.string(),
  /** The worst level of any environment. */
  level: HealthLevel,
  environments: z.array(EnvironmentStatus),
});
export type StatusResult = z.infer<typeof StatusResult>;
