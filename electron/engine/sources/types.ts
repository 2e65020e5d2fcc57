import type { Source } from '../../../shared/environment.js';
import type { Artifact } from '../../../shared/manifest.js';
import type { DrillCheck } from '../../../shared/drill.js';
import type { ProgressMeter } from '../progress.js';
import type { InUse, SourcePreview } from '../../../shared/restore.js';

/** What a source measures before a run: totals for progress, and proof it can be read. */
export interface SourceEstimate {
  bytes: number;
  files: number;
}

export interface CaptureContext<S extends Source> {
  source: S;
  /** The hidden partial set folder; artifacts are written straight into it. */
  dir: string;
  /** A scratch folder on the same disk as `dir`, removed after the run. */
  scratch: string;
  signal: AbortSignal;
  progress: ProgressMeter;
}

export interface CheckContext {
  /** The source's name and every artifact the manifest records for it. */
  source: string;
  artifacts: Artifact[];
  /** The sealed set folder (read only: a drill never writes there). */
  setDir: string;
  /** A scratch folder for decompressing and extracting, removed after the drill. */
  scratch: string;
  signal: AbortSignal;
  progress: ProgressMeter;
}

/**
 * One kind of source. The backup run, the drill and (later) the restore orchestrate; only a
 * plug-in knows how its data is read, packed and proved.
 */
export interface SourcePlugin<S extends Source = Source> {
  readonly kind: S['kind'];
  /** Checks the live data can be read, before anything is written; throws a LifeboatError. */
  inspect(source: S, signal: AbortSignal): Promise<SourceEstimate>;
  /** Writes this source's artifacts into the partial set folder and describes them. */
  capture(ctx: CaptureContext<S>): Promise<Artifact[]>;
  /**
   * Proves this source's artifacts hold the application's data (the byte hashes are already
   * checked by the drill). Returns named checks; a failure is a FAIL check, not a throw.
   */
  check(ctx: CheckContext): Promise<DrillCheck[]>;
}

/** What every restore step of a source is given. */
export interface RestoreContext<S extends Source = Source> {
  source: S;
  /** The artifacts the set records for this source. */
  artifacts: Artifact[];
  /** The sealed set folder (read only). */
  setDir: string;
  /** Where the data goes: the source's live path, or a path inside a "restore elsewhere" folder. */
  target: string;
  signal: AbortSignal;
  progress: ProgressMeter;
}

/**
 * The restore half of a source. The restore run orchestrates (pre-flight, safety backup, journal,
 * swap, roll-back); a plug-in only knows how to compare, stage and verify its own data.
 */
export interface RestorePlugin<S extends Source = Source> {
  /** What restoring would change at `ctx.target`. Reads only; a missing target is not an error. */
  preview(ctx: RestoreContext<S>): Promise<SourcePreview>;
  /** Whether another process uses the target now ("in use by …; close it"). */
  inUse(source: S, target: string): Promise<InUse>;
  /** Bytes the staged copy will take on the target's disk. */
  stagedBytes(artifacts: Artifact[]): number;
  /** Paths that belong to the target and move aside with it (SQLite's -wal, -shm, -journal). */
  companions(target: string): string[];
  /**
   * Writes the set's data to `staged` (a path beside the target that does not exist yet, on the
   * same filesystem), then proves the staged copy matches the set. Returns the proof's checks;
   * throws a LifeboatError when the data cannot be staged or does not match.
   */
  stage(ctx: RestoreContext<S> & { staged: string }): Promise<DrillCheck[]>;
  /** Last check just before the swap (SQLite: an exclusive lock can be taken); throws IN_USE. */
  beforeSwap?(target: string): Promise<void>;
  /** Compares the data now at `ctx.target` with the set, after the swap. FAIL checks, not throws. */
  verify(ctx: RestoreContext<S>): Promise<DrillCheck[]>;
}
