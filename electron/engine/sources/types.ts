import type { Source } from '../../../shared/environment.js';
import type { Artifact } from '../../../shared/manifest.js';
import type { DrillCheck } from '../../../shared/drill.js';
import type { ProgressMeter } from '../progress.js';

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
