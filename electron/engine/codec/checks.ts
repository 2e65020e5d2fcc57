import { Transform, type TransformCallback } from 'node:stream';
import type { Artifact } from '../../../shared/manifest.js';
import { LifeboatError } from '../errors.js';
import { HashTap } from '../pipeline.js';

/**
 * Hashes an artifact's stored bytes as they pass and, at their end, fails unless their size and
 * SHA-256 are the manifest's: the drill's own words for a truncated or damaged artifact.
 */
export class StoredCheck extends HashTap {
  constructor(
    private readonly artifact: Pick<Artifact, 'size' | 'sha256'>,
    onBytes?: (n: number) => void,
  ) {
    super(onBytes);
  }
  override _flush(done: TransformCallback): void {
    done(storedMismatch(this.artifact, { size: this.bytes, sha256: this.digest() }));
  }
}

/** Why stored bytes are not the recorded ones, or null when they are. */
export function storedMismatch(want: Pick<Artifact, 'size' | 'sha256'>, got: { size: number; sha256: string }): Error | null {
  if (got.size !== want.size) return new Error(`${got.size} bytes, the manifest records ${want.size}: the artifact is truncated or damaged`);
  if (got.sha256 !== want.sha256) return new Error(`SHA-256 is ${got.sha256}, the manifest records ${want.sha256}: the artifact is damaged`);
  return null;
}

/** Fails the stream once more than `max` bytes pass: a decompression bomb stops at its budget. */
export class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) {
      done(new LifeboatError('DRILL_FAILED', `${this.what} expands past the ${this.max} bytes its manifest records.`, 'The artifact does not match its manifest; use another set.'));
      return;
    }
    done(null, chunk);
  }
}

/**
 * How many plain bytes an artifact may decode to, from its manifest entry: the raw size a
 * snapshot or command output records; for a tar archive, its files' bytes plus a header block
 * and padding per recorded entry (and 100 more entries) and 1 MiB for the end of the archive.
 */
export function budgetOf(artifact: Artifact): number {
  const d = artifact.details;
  switch (d.type) {
    case 'sqlite':
    case 'command-output':
      return d.rawSize;
    case 'archive':
      return d.totalBytes + (d.fileCount + d.dirCount + d.symlinkCount + 100) * 16384 + (1 << 20);
    case 'file-index':
    case 'pg-dump':
      return artifact.size;
  }
}

/** Tells the count of each chunk that passes, unchanged: progress for plain bytes nobody needs hashed. */
export class ByteCount extends Transform {
  constructor(private readonly onBytes: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.onBytes(chunk.length);
    done(null, chunk);
  }
}
