import type { Source } from '../../../../shared/environment.js';
import type { Artifact } from '../../../../shared/manifest.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import type { ProgressMeter } from '../../progress.js';
import type { InUse, SourcePreview } from '../../../../shared/restore.js';
import type { OwnerPlan } from './ownership.js';
import type { ArtifactReader, ArtifactWriter } from '../../codec/index.js';

/** What a source measures before a run: totals for progress, and proof it can be read. */
export interface SourceEstimate {
  bytes: number;
  files: number;
}

export interface CaptureContext<S extends Source> {
  source: S;
  /** Writes this source's artifacts into the partial set: a plug-in hands it plain streams. */
  writer: ArtifactWriter;
  /** A scratch folder on the same disk as the partial set, removed after the run. */
  scratch: string;
  signal: AbortSignal;
  progress: ProgressMeter;
}

export interface CheckContext {
  /** The source's name and every artifact the manifest records for it. */
  source: string;
  artifacts: Artifact[];
  /** The sealed set's artifacts as plain bytes, checked against the manifest (a drill never writes there). */
  reader: ArtifactReader;
  /** A scratch folder for decompressing and extracting, removed after the drill. */
  scratch: string;
  signal: AbortSignal;
  progress: ProgressMeter;
  /** The source as the set's manifest records it (a drill may need its server, e.g. for a test restore). */
  config?: Source;
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

/**
 * Where a "restore test" writes instead of the live data: a folder for the kinds that restore
 * files, a new database for PostgreSQL. Null in a context means the live data.
 */
export interface RestoreDestination {
  folder?: string;
  database?: string;
}

/** What every restore step of a source is given. */
export interface RestoreContext<S extends Source = Source> {
  source: S;
  /** The artifacts the set records for this source. */
  artifacts: Artifact[];
  /** The sealed set's artifacts as plain bytes, checked against the manifest (read only). */
  reader: ArtifactReader;
  /** Where the data goes, as `target()` named it: the live place, or inside the restore test's destination. */
  target: string;
  /** Null or absent for a restore over the live data. */
  destination?: RestoreDestination | null;
  signal: AbortSignal;
  progress: ProgressMeter;
  /** For `verify` after a swap: the owners and modes staging gave each path (absent when nothing was staged here). */
  owners?: OwnerPlan;
}

/** What staging wrote: the proof's checks, and the owners and modes it gave each path. */
export interface Staged {
  checks: DrillCheck[];
  owners: OwnerPlan;
}

/** What every kind's restore half answers; the restore run orchestrates, a plug-in knows its data. */
interface RestoreCommon<S extends Source> {
  /**
   * Where this source is restored: its live place, or inside `destination`. Throws BAD_ARGUMENT
   * when the destination lacks what this kind needs (a folder, a database name).
   */
  target(source: S, destination: RestoreDestination | null): string;
  /** Whether there is data at the target now: then the safety backup takes it first. */
  exists(ctx: RestoreContext<S>): Promise<boolean>;
  /** What restoring would change at `ctx.target`. Reads only; a missing target is not an error. */
  preview(ctx: RestoreContext<S>): Promise<SourcePreview>;
  /** Whether another process or session uses the live target now ("in use by …; close it"); asked only of live targets. */
  inUse(source: S, target: string): Promise<InUse>;
  /** A restore test's own pre-flight check beyond an empty folder (a new database's name is free). */
  destinationCheck?(ctx: RestoreContext<S>): Promise<DrillCheck>;
  /**
   * Throws (an Error saying what is missing) unless the programs this restore runs are there and
   * can do it (pg_restore at least the dump's and the server's version; the restore command
   * installed): checked in the pre-flight, before the safety backup. Returns what was found.
   */
  programsReady?(ctx: RestoreContext<S>): Promise<string>;
  /** Compares the data now at `ctx.target` with the set, after the restore. FAIL checks, not throws. */
  verify(ctx: RestoreContext<S>): Promise<DrillCheck[]>;
}

/**
 * A kind whose data is files: staged beside the target, then swapped in by renames that the
 * restore run journals and can roll back (sqlite, files).
 */
export interface SwapRestore<S extends Source = Source> extends RestoreCommon<S> {
  readonly method: 'swap';
  /** Bytes the staged copy will take on the target's disk. */
  stagedBytes(artifacts: Artifact[]): number;
  /** Paths that belong to the target and move aside with it (SQLite's -wal, -shm, -journal). */
  companions(target: string): string[];
  /**
   * Writes the set's data to `staged` (a path beside the target that does not exist yet, on the
   * same filesystem), then proves the staged copy matches the set, and gives each path its
   * owner and mode (the live path's over the live data). Returns the proof's checks and what each
   * path was given, for `verify`; throws a LifeboatError when the data cannot be staged or does not match.
   */
  stage(ctx: RestoreContext<S> & { staged: string }): Promise<Staged>;
  /** Last check just before the swap (SQLite: an exclusive lock can be taken); throws IN_USE. */
  beforeSwap?(target: string): Promise<void>;
}

/**
 * A kind whose data lives behind a server or a program (postgres, command): written in place by
 * one step (pg_restore in one transaction; the operator's restore command). What a later failure
 * must undo, `undo` puts back.
 */
export interface ApplyRestore<S extends Source = Source> extends RestoreCommon<S> {
  readonly method: 'apply';
  /**
   * Whether a failed `apply` is certain to have changed nothing (one database transaction). When
   * it is not (an operator's command may stop half-way), the run undoes a failed apply too.
   */
  readonly atomic: boolean;
  /** Writes the set's data into the target; throws a LifeboatError when it did not succeed. */
  apply(ctx: RestoreContext<S>): Promise<DrillCheck[]>;
  /**
   * Puts back what the target held before `apply`: the safety set's data (`before`), or, when
   * there was nothing (a new database, a restore test), removes what `apply` made.
   */
  undo(ctx: RestoreContext<S>, before: SavedData | null): Promise<void>;
  /**
   * Why restoring the safety set afterwards would not put the live data back exactly (a restore
   * that merges keeps what it added), or null; given the restore's verification of this target.
   */
  undoLimit?(source: S, verification: DrillCheck[]): string | null;
}

/** A set a restore can put back from: the safety set's artifacts of one source, and their reader. */
export interface SavedData {
  reader: ArtifactReader;
  artifacts: Artifact[];
}

/** The restore half of a source kind. */
export type RestorePlugin<S extends Source = Source> = SwapRestore<S> | ApplyRestore<S>;
