import { z } from 'zod';
import { DrillCheck } from './drill.js';

/** A table's rows now (null: no such table, or no live database) and in the set (null: not in the set). */
export const TableChange = z.object({ name: z.string(), now: z.number().int().nullable(), inSet: z.number().int().nullable() });

/** One path that a restore adds, removes or changes, with its size now and in the set. */
export const FileChange = z.object({ path: z.string(), now: z.number().int().nullable(), inSet: z.number().int().nullable() });

const changeCounts = z.object({ count: z.number().int(), bytes: z.number().int() });

/**
 * How a command source's restore loads the set over the live data, said before it runs: with a
 * reset command the data becomes exactly the set; without one a restore that merges keeps what
 * the set lacks, and its undo cannot take away what it added.
 */
export const CommandLoading = z.object({
  /** Run before the restore command (and before each undo's load); null when the source has none. */
  reset: z.array(z.string()).nullable(),
  /** `yes`: keeps objects the set lacks (loaddata); `unknown`: Lifeboat cannot tell what the command does; `no`: reset first. */
  merges: z.enum(['no', 'yes', 'unknown']),
  /** What the restore and its undo do, in the operator's words. */
  note: z.string(),
});
export type CommandLoading = z.infer<typeof CommandLoading>;
/** A path's owner, group (ids, and names where they resolve on this machine) and permission bits. */
export const Ownership = z.object({ uid: z.number().int(), gid: z.number().int(), user: z.string().nullable(), group: z.string().nullable(), mode: z.number().int() });
export type Ownership = z.infer<typeof Ownership>;

/**
 * A path whose owner, group or mode after the restore will not be both what it is now and what
 * the set records: the live one is kept, a set-uid bit is dropped, or Lifeboat (not root) cannot
 * give it back its owner. `now` is null for a path the live data lacks, `inSet` when the set
 * records no owner (older sets).
 */
export const OwnershipChange = z.object({
  path: z.string(),
  now: Ownership.nullable(),
  inSet: Ownership.nullable(),
  after: Ownership,
  /** False when the path would not get the owner and group it has now (or, new, the set records). */
  ownerKept: z.boolean(),
  why: z.string(),
});
export type OwnershipChange = z.infer<typeof OwnershipChange>;

/** Owner and mode changes of one source: all counted, the first listed (absolute paths, sorted). */
const ownershipChanges = z.object({
  count: z.number().int(),
  /** How many paths would get another owner or group than they have now (or the set records, for new ones): Lifeboat is not root. */
  notKept: z.number().int(),
  samples: z.array(OwnershipChange),
});

/** What restoring one source would change, shown before anything is written. */
export const SourcePreview = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('tables'),
    source: z.string(),
    target: z.string(),
    targetExists: z.boolean(),
    tables: z.array(TableChange),
    /** A command source restored over the live data (a Django fixture). */
    loading: CommandLoading.optional(),
    /** A SQLite file's owner and mode changes; absent for a database behind a server, which owns its files itself. */
    ownership: ownershipChanges.optional(),
  }),
  z.object({
    type: z.literal('files'),
    source: z.string(),
    target: z.string(),
    targetExists: z.boolean(),
    added: changeCounts,
    removed: changeCounts,
    changed: changeCounts,
    unchanged: z.number().int(),
    /** Live entries the source's globs do not take: a restore keeps them as they are. */
    kept: z.number().int(),
    /** The first paths of each kind, for the screen; counts above are complete. */
    samples: z.object({ added: z.array(FileChange), removed: z.array(FileChange), changed: z.array(FileChange) }),
    ownership: ownershipChanges,
  }),
  /** A command source whose output has no format Lifeboat reads: what will run, and what it is fed. */
  z.object({
    type: z.literal('command'),
    source: z.string(),
    target: z.string(),
    targetExists: z.boolean(),
    /** The restore command, run without a shell, with the set's output on its standard input. */
    argv: z.array(z.string()),
    inputBytes: z.number().int(),
    /** Absent for a restore test, which runs nothing. */
    loading: CommandLoading.optional(),
  }),
]);
export type SourcePreview = z.infer<typeof SourcePreview>;

/** A source's answer to "is anything using the target?". */
export const InUse = z.discriminatedUnion('status', [
  z.object({ status: z.literal('free'), how: z.string() }),
  z.object({ status: z.literal('busy'), holders: z.array(z.string()) }),
  z.object({ status: z.literal('unknown'), reason: z.string() }),
]);
export type InUse = z.infer<typeof InUse>;

export const RestorePreview = z.object({
  env: z.string(),
  setId: z.string(),
  /** `live` replaces the environment's data; `elsewhere` writes into another folder. */
  mode: z.enum(['live', 'elsewhere']),
  sources: z.array(SourcePreview),
  /** Where the pre-restore safety backup will go (live restores only). */
  safetyLocation: z.string().nullable(),
  /** Whether the operator must type the environment's name. */
  needsConfirmation: z.boolean(),
  /** What to type, exactly: the name, or `app/name` where other applications have an environment of that name; null when nothing is typed. */
  confirmAs: z.string().nullable(),
  preflight: z.array(DrillCheck),
  /** True when every pre-flight check passed: the restore may proceed. */
  ready: z.boolean(),
});
export type RestorePreview = z.infer<typeof RestorePreview>;

export const RestoreResult = z.object({
  env: z.string(),
  setId: z.string(),
  mode: z.enum(['live', 'elsewhere']),
  targets: z.array(z.object({ source: z.string(), path: z.string() })),
  /** The pre-restore safety set, when one was taken. */
  safetySet: z.object({ id: z.string(), path: z.string() }).nullable(),
  /** Checks of the live data against the set after the swap; all PASS, or the restore was rolled back. */
  verification: z.array(DrillCheck),
  /**
   * Sources whose undo (restoring the safety set) cannot put the data back exactly, with why:
   * their restore merges, so what it added stays. Empty: restoring the safety set undoes it all.
   */
  undoLimits: z.array(z.object({ source: z.string(), reason: z.string() })),
  durationMs: z.number(),
});
export type RestoreResult = z.infer<typeof RestoreResult>;

/**
 * The pre-flight of a restore, run now: a fresh drill of the set, then the checks of its targets
 * (in use, free space, programs, an empty destination). The restore runs the same checks again
 * before it writes anything; this answer is what a screen shows before asking to confirm.
 */
export const RestorePreflight = z.object({
  env: z.string(),
  setId: z.string(),
  mode: z.enum(['live', 'elsewhere']),
  /** When these checks started (the drill's time). */
  checkedAt: z.string(),
  checks: z.array(DrillCheck),
  /** True when no check FAILed: the restore may be confirmed. */
  ready: z.boolean(),
});
export type RestorePreflight = z.infer<typeof RestorePreflight>;

/** The engine's rule for a restore test's folder, answered as the operator types it: empty or new. */
export const FolderCheck = z.object({
  /** The folder as the engine will use it (a full path, `~` expanded). */
  folder: z.string(),
  status: z.enum(['PASS', 'FAIL']),
  reason: z.string(),
});
export type FolderCheck = z.infer<typeof FolderCheck>;
