import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

/**
 * Where a set's artifact files live, as the codec sees them: a store's partial or sealed set
 * (store/artifact-files.ts has the local folder's). The codec never opens a stored file itself.
 */
export interface ArtifactFiles {
  /** A new artifact file, created exclusively; `commit()` makes it durable (fsync), `abort()` removes it. */
  create(file: string): Promise<{ stream: Writable; commit(): Promise<void>; abort(): Promise<void> }>;
  /** Reads a stored artifact file's bytes as stored (compressed/encrypted), from `start`. */
  open(file: string, opts?: { start?: number; signal?: AbortSignal }): Readable;
  /**
   * Where a stored file lies on this machine, for a program that must be given a file path
   * (pg_restore seeks in its archive). Only a local folder has one; without it the codec
   * materializes the plain bytes to a scratch file instead.
   */
  localPath?(file: string): string;
}

/** What reading needs of a set's files: a sealed set gives only these. */
export type StoredFiles = Pick<ArtifactFiles, 'open' | 'localPath'>;

/**
 * A new scratch file (created exclusively, mode 0600) for an artifact's plain bytes. Its errors
 * stay the filesystem's own (ENOSPC and the path in the message), which a restore's staging reads.
 */
export function scratchFile(dest: string): Writable {
  return createWriteStream(dest, { flags: 'wx', mode: 0o600 });
}
