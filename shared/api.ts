import { z } from 'zod';
import { ActivityAction, ActivityOutcome } from './activity.js';
import { Environment, Protection, Retention } from './environment.js';
import { DrillReport } from './drill.js';
import { KindDescription, SourceShown } from './kinds.js';
import { ChangedEvent, ProgressEvent } from './events.js';
import { FolderCheck, RestorePreflight, RestorePreview, RestoreResult } from './restore.js';
import { DeleteResult, PruneResult } from './retention.js';
import { Health, StatusResult } from './status.js';
import { LinuxTimerMethod, RunDueResult, TimerResult } from './schedule.js';

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
  /** The sidebar's dot: the worst alert level and how many alerts (from the catalog, without rescanning). */
  health: Health,
  /**
   * What the operator types to confirm a destructive step of a protected environment: its name, or
   * the full `app/name` where other applications have an environment of the same name.
   */
  confirmAs: z.string(),
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
  /** A pinned set is never pruned nor deleted; a pre-restore safety set has `label: "pre-restore"`. */
  pinned: z.boolean(),
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
  /** Sets whose manifest cannot be read, and backup locations that cannot be listed (their sets are kept in the catalog). */
  unreadable: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type RebuildResult = z.infer<typeof RebuildResult>;

export const ActivityEntry = z.object({
  id: z.number().int(),
  at: z.string(),
  env: z.string().nullable(),
  action: ActivityAction,
  door: z.string(),
  outcome: ActivityOutcome,
  summary: z.string(),
});
export type ActivityEntry = z.infer<typeof ActivityEntry>;

/** What the environment editor shows as the operator types: every problem at once, and what is on disk. */
export const EnvironmentCheck = z.object({
  /** True when the environment can be saved as it is. */
  ok: z.boolean(),
  /** `app/name` when both are given. */
  key: z.string().nullable(),
  /** An environment with this key is already saved (saving replaces it). */
  exists: z.boolean(),
  problems: z.array(z.object({ path: z.string(), message: z.string(), hint: z.string().optional() })),
  sources: z.array(
    z.object({
      index: z.number().int(),
      name: z.string(),
      kind: z.string(),
      status: z.enum(['ok', 'problem', 'unchecked']),
      summary: z.string(),
      bytes: z.number().nullable(),
      files: z.number().nullable(),
    }),
  ),
  location: z.object({ status: z.enum(['ok', 'problem', 'unchecked']), summary: z.string() }),
  /**
   * Set when saving would weaken a protected environment already saved (lower its protection, move
   * its location, remove a source): `env.save` then needs `confirm` equal to `name`.
   */
  confirmation: z.object({ name: z.string(), changes: z.array(z.string()) }).nullable(),
});
export type EnvironmentCheck = z.infer<typeof EnvironmentCheck>;

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
  /**
   * Saves (creates or replaces) an environment. Replacing a protected one with a lower protection,
   * another location or fewer sources needs the typed confirmation in `confirm` (see `env.check`'s
   * `confirmation`).
   */
  'env.save': method(z.object({ environment: z.unknown(), baseDir: z.string().optional(), confirm: z.string().optional() }), Environment),
  'env.check': method(z.object({ environment: z.unknown(), baseDir: z.string().optional() }), EnvironmentCheck),
  /** Creates (or finds) the demo environment: a small database and folder in Lifeboat's data folder. */
  'env.demo': method(z.object({}), Environment),
  /** How each source of an environment is shown: its kind's label and where its data is. */
  'env.sources': method(z.object({ env: envRef }), z.array(SourceShown)),
  /** Every source kind this version knows, as the editor offers them: labels, fields, and where a restore test puts it. */
  'kinds.list': method(z.object({}), z.array(KindDescription)),
  'backup.run': method(z.object({ env: envRef }), BackupResult),
  'sets.list': method(z.object({ env: envRef }), z.array(SetSummary)),
  /** Opens a set's folder in the file manager where there is a desktop; always answers its path. */
  'sets.reveal': method(z.object({ env: envRef, set: z.string().min(1) }), z.object({ path: z.string(), opened: z.boolean(), how: z.string() })),
  'drill.run': method(z.object({ env: envRef, set: z.string().optional() }), DrillReport),
  'restore.preview': method(z.object({ env: envRef, set: z.string().min(1), to: z.string().min(1).optional(), toDatabase: toDatabase.optional() }), RestorePreview),
  /** The restore's pre-flight, run now with a fresh drill (its progress is told under the job's name); changes nothing but the drill record. */
  'restore.preflight': method(z.object({ env: envRef, set: z.string().min(1), to: z.string().min(1).optional(), toDatabase: toDatabase.optional() }), RestorePreflight),
  /** Whether a folder may take a restore test (empty or new, apart from the environment's live data and sets), by the rule the restore applies. */
  'restore.checkFolder': method(z.object({ to: z.string().min(1).max(4096), env: envRef.optional() }), FolderCheck),
  'restore.run': method(z.object({ env: envRef, set: z.string().min(1), to: z.string().min(1).optional(), toDatabase: toDatabase.optional(), confirm: z.string().optional() }), RestoreResult),
  'catalog.rebuild': method(z.object({ locations: z.array(z.string()).default([]) }), RebuildResult),
  'activity.list': method(z.object({ env: envRef.optional(), limit: z.number().int().positive().max(10000).default(200) }), z.array(ActivityEntry)),
  /** Cancels a running call that was started with this job name; false when no such job runs. */
  'job.cancel': method(z.object({ job: z.string().min(1).max(100) }), z.object({ cancelled: z.boolean() })),
  /** Pins or unpins a set; a pin is a marker file in the location, so it survives `catalog.rebuild`. */
  'sets.pin': method(z.object({ env: envRef, set: z.string().min(1), pinned: z.boolean() }), SetSummary),
  /** Deletes one unpinned set; a protected environment needs its name in `confirm`. */
  'sets.delete': method(z.object({ env: envRef, set: z.string().min(1), confirm: z.string().optional() }), DeleteResult),
  /** Applies the retention policy; `dryRun` decides the same and deletes nothing. A protected environment needs `confirm` to delete. */
  'sets.prune': method(z.object({ env: envRef, dryRun: z.boolean(), confirm: z.string().optional() }), PruneResult),
  /**
   * What a proposed retention policy would decide for the environment's sets, as a dry run of
   * `sets.prune` decides it; nothing is deleted or saved. The editor shows it as the operator types.
   */
  'retention.preview': method(z.object({ env: envRef, retention: Retention }), PruneResult),
  /** Health, alerts, next due time and chart series, per environment; `now` stands in for the clock. */
  'status.get': method(z.object({ env: envRef.optional(), now: z.iso.datetime({ offset: true }).optional() }), StatusResult),
  /** Runs every scheduled backup (then drill, then prune) that is due at `now` (default: the clock). */
  'schedule.runDue': method(z.object({ now: z.iso.datetime({ offset: true }).optional() }), RunDueResult),
  /** Writes (and with `activate`, enables) the operating system's timer that runs `lifeboat run-due`; on Linux `method` chooses how (detected when absent). */
  'schedule.install': method(z.object({ activate: z.boolean().default(true), platform: z.enum(['linux', 'darwin', 'win32']).optional(), method: LinuxTimerMethod.optional() }), TimerResult),
  /** Disables and removes that timer: whichever kinds are installed, or only `method`. */
  'schedule.remove': method(z.object({ activate: z.boolean().default(true), platform: z.enum(['linux', 'darwin', 'win32']).optional(), method: LinuxTimerMethod.optional() }), TimerResult),
} as const;

export type Api = typeof api;
export type MethodName = keyof Api;
export type ArgsOf<M extends MethodName> = z.input<Api[M]['args']>;
export type ResultOf<M extends MethodName> = z.infer<Api[M]['result']>;

/** Events a door pushes to the renderer while work runs, by their `type`. */
export const events = {
  progress: ProgressEvent,
  changed: ChangedEvent,
} as const;
