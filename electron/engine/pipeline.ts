import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Hashing of plain files (live data, the recovery card, a set's fingerprint). Artifacts are
 * written and read only through the codec (codec/), which builds on the tap below.
 */

/** Counts and hashes the bytes that pass through it, unchanged. */
export class HashTap extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    done(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** SHA-256 and size of a file, read in 1 MiB chunks; `onBytes` counts them as they pass. */
export async function hashFile(file: string, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<{ size: number; sha256: string }> {
  const tap = new HashTap(onBytes);
  await pipeline(
    createReadStream(file, { highWaterMark: 1 << 20 }),
    tap,
    async function (source) {
      for await (const _ of source) {
        // drain: the tap has already counted and hashed the chunk
      }
    },
    { signal },
  );
  return { size: tap.bytes, sha256: tap.digest() };
}
