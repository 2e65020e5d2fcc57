import type { Source } from '../../../../shared/environment.js';
import type { KindDescription } from '../../../../shared/kinds.js';
import type { Artifact } from '../../../../shared/manifest.js';
import type { RestorePlugin, SourceEstimate, SourcePlugin } from './types.js';

/** A source's live data where it is a path on this machine, for keeping it and the backup location apart. */
export interface LivePath {
  path: string;
  /**
   * A folder whose every file is data: a backup location or a restore test inside it would be taken
   * by the next backup. A single file (a database) cannot hold a location, only sit inside one.
   */
  folder: boolean;
}

/** What the environment check says of a source that could be read. */
export type CheckAnswer = { summary: string } | { problem: { field: string; message: string; summary: string } };

/** One source's part of the recovery card (RESTORE.txt): a heading after `Source "NAME": ` and its lines. */
export interface CardSection {
  heading: string;
  lines: string[];
  /** The steps move the live data aside: the card ends by saying to keep it until the application runs well. */
  movesAside: boolean;
}

/**
 * Everything the engine and the screens know of one source kind, registered once in
 * `sources/index.ts`: nothing outside the kind's folder tests its name.
 */
export interface KindDescriptor<S extends Source = Source> {
  readonly kind: S['kind'];
  /** The capture and check halves. */
  readonly plugin: SourcePlugin<S>;
  /** The restore half. */
  readonly restorer: RestorePlugin<S>;
  /** How the screens show and edit it (the contract's `kinds.list`). */
  readonly description: KindDescription;
  /** The fields naming a place on disk, with their values: each must be a full path in a file read without a folder. */
  pathsOf(source: S): [string, string][];
  /** Makes every path of the source absolute against `baseDir`, in place. */
  resolvePaths(source: S, baseDir: string, resolve: (p: string, base: string) => string): void;
  /** The live data as a path on this machine, or null for data behind a server or a program. */
  livePath(source: S): LivePath | null;
  /**
   * Where a restore writes, as one line: when it differs between two saves the set's data would go
   * somewhere else, which weakens a protected environment as much as removing the source.
   */
  restoreTarget(source: S): string;
  /** How its place is named in a message (a stalled job): a path, or what it talks to. */
  placeOf(source: S): string;
  /** Where its data is, as the Overview lists it. */
  shownPlace(source: S): string;
  /** What the environment check says once `inspect` measured it. */
  checkAnswer(source: S, estimate: SourceEstimate): CheckAnswer;
  /** Its part of the recovery card for one of its artifacts; null for an artifact of another kind. */
  cardSection(artifact: Artifact, source: Source | undefined): CardSection | null;
}
