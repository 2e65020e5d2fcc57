import { z } from 'zod';
import { Environment, Protection } from './environment.js';
import { DrillReport } from './drill.js';
import { Progress } from './progress.js';
import { RestorePreview, RestoreResult } from './restore.js';

/** Which way a request came in; recorded in the activity log. */
export const Door = z.enum(['cli', 'web', 'app', 'test']);
export type Door = z.infer<typeof Door>;

/** `prod` when that name is unique, or `app/prod`. */
const envRef = z.string().min(1);

/**
 * "Restore test" of a PostgreSQL source: a new database of this name on the source's server
 * (created by the restore, refused if it exists); the live database is never touched. Like `to`
 * for folders, it makes the whole restore one that leaves live data alone.
 */
const toDatabase = z.string().min(1, 'give the name of a database that does not exist yet').max(63, 'PostgreSQL database names have at most 63 characters');

export const EnvironmentSummary = z.object({
  key: z.string(),
  app: z.string(),
  name: z.string(),
  protection: Protection,
  location: z.string(),
  sources: z.number().int(),
  sets: z.number().int(),
  lastBackupAt: z.string().nullable(),
  lastDrill: z.object({ setId: z.string(), at: z.string(), passed: z.boolean() }).nullable(),
});
export type EnvironmentSummary = z.infer<typeof EnvironmentSummary>;

export const SetSummary = z.object({
  id: z.string(),
  env: z.string(),
  path: z.string(),
  label: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  sizeBytes: z.number(),
  artifacts: z.number().int(),
  drill: z.object({ at: z.string(), passed: z.boolean() }).nullable(),
});
export type SetSummary = z.infer<typeof SetSummary>;

export const BackupResult = z.object({
  id: z.string(),
  path: z.string(),
  env: z.string(),
  sizeBytes: z.number(),
  durationMs: z.number(),
  artifacts: z.array(z.object({ file: z.string(), size: z.number(), sha256: z.string() })),
  /** What the run found and cleaned up first: partial folders and locks of killed runs. */
  cleaned: z.array(z.string()),
});
export type BackupResult = z.infer<typeof BackupResult>;

export const RebuildResult = z.object({
  environments: z.array(z.string()),
  adoptedEnvironments: z.array(z.string()),
  sets: z.number().int(),
  added: z.number().int(),
  removed: z.number().int(),
  unreadable: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type RebuildResult = z.infer<typeof RebuildResult>;

export const ActivityEntry = z.object({
  id: z.number().int(),
  at: z.string(),
  env: z.string().nullable(),
  action: z.string(),
  door: z.string(),
  outcome: z.enum(['success', 'failed', 'refused', 'cancelled']),
  summary: z.string(),
});
export type ActivityEntry = z.infer<typeof ActivityEntry>;

/** Declares one method of the contract: its argument and its result. */
function method<A extends z.ZodType, R extends z.ZodType>(args: A, result: R) {
  return { args, result };
}

/**
 * Every method a door may call. The Electron preload and the web host expose exactly these,
 * and parse arguments with `args` before the engine sees them.
 */
export const api = {
  'env.list': method(z.object({}), z.array(EnvironmentSummary)),
  'env.get': method(z.object({ env: envRef }), Environment),
  'env.save': method(z.object({ environment: z.unknown(), baseDir: z.string().optional() }), Environment),
  'backup.run': method(z.object({ env: envRef }), BackupResult),
  'sets.list': method(z.object({ env: envRef }), z.array(SetSummary)),
  'drill.run': method(z.object({ env: envRef, set: z.string().optional() }), DrillReport),
  'restore.preview': method(z.object({ env: envRef, set: z.string().min(1), to: z.string().min(1).optional(), toDatabase: toDatabase.optional() }), RestorePreview),
  'restore.run': method(z.object({ env: envRef, set: z.string().min(1), to: z.string().min(1).optional(), toDatabase: toDatabase.optional(), confirm: z.string().optional() }), RestoreResult),
  'catalog.rebuild': method(z.object({ locations: z.array(z.string()).default([]) }), RebuildResult),
  'activity.list': method(z.object({ env: envRef.optional(), limit: z.number().int().positive().max(10000).default(200) }), z.array(ActivityEntry)),
  /** Cancels a running call that was started with this job name; false when no such job runs. */
  'job.cancel': method(z.object({ job: z.string().min(1).max(100) }), z.object({ cancelled: z.boolean() })),
} as const;

export type Api = typeof api;
export type MethodName = keyof Api;
export type ArgsOf<M extends MethodName> = z.input<Api[M]['args']>;
export type ResultOf<M extends MethodName> = z.infer<Api[M]['result']>;

/** Events the engine pushes to a door while work runs. */
export const events = {
  progress: Progress,
} as const;
