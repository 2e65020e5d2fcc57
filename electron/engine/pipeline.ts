import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, constants as zlib } from 'node:zlib';
import path from 'node:path';
import { cancelled, fsError, LifeboatError } from './errors.js';
import { fsyncFile } from './durable.js';

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

export interface WrittenArtifact {
  /** Bytes and SHA-256 of the file on disk. */
  size: number;
  sha256: string;
  /** Bytes and SHA-256 of what the source produced, before compression. */
  rawSize: number;
  rawSha256: string;
}

export interface WriteOptions {
  compression: 'gzip' | 'none';
  signal?: AbortSignal;
  /** Called with each count of raw bytes read from the source. */
  onRawBytes?: (n: number) => void;
}

/**
 * Streams one artifact from its source through compression and hashing to `dest` in a single
 * pass with bounded memory, then fsyncs it. `dest` must not exist. On any failure the file is
 * removed. Encryption, when it comes, is one more stage between compression and the stored hash.
 */
export async function writeArtifact(input: Readable, dest: string, opts: WriteOptions): Promise<WrittenArtifact> {
  const raw = new HashTap(opts.onRawBytes);
  const stored = new HashTap();
  const stages: NodeJS.ReadWriteStream[] = [raw];
  if (opts.compression === 'gzip') stages.push(createGzip({ level: 6, chunkSize: 64 * 1024, memLevel: zlib.Z_DEFAULT_MEMLEVEL }));
  stages.push(stored);
  const out = createWriteStream(dest, { flags: 'wx', mode: 0o600 });
  try {
    await pipeline([input, ...stages, out] as unknown as [Readable, ...NodeJS.ReadWriteStream[], NodeJS.WritableStream], { signal: opts.signal });
    await fsyncFile(dest);
  } catch (err) {
    input.destroy();
    await fs.rm(dest, { force: true });
    if (opts.signal?.aborted) throw cancelled();
    if (err instanceof LifeboatError) throw err;
    throw fsError(err, dest, true) ?? err;
  }
  return { size: stored.bytes, sha256: stored.digest(), rawSize: raw.bytes, rawSha256: raw.digest() };
}

/** SHA-256 and size of a file, read in 1 MiB chunks; `onBytes` counts them as they pass. */
export async function hashFile(file: string, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<{ size: number; sha256: string }> {
  const tap = new HashTap(onBytes);
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), tap, async function (source) {
    for await (const _ of source) {
      // drain: the tap has already counted and hashed the chunk
    }
  }, { signal });
  return { size: tap.bytes, sha256: tap.digest() };
}

/** Fails the stream once more than `max` bytes pass: a decompression bomb stops at its budget. */
export class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly max: number, private readonly what: string) {
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
 * Decompresses (or copies) an artifact to `dest`, hashing what comes out, and stops at `maxBytes`.
 * Used by the drill to rebuild a raw snapshot in a scratch folder.
 */
export async function expandArtifact(
  src: string,
  dest: string,
  compression: 'gzip' | 'none',
  maxBytes: number,
  signal?: AbortSignal,
  onBytes?: (n: number) => void,
): Promise<{ size: number; sha256: string }> {
  const tap = new HashTap(onBytes);
  const stages: NodeJS.ReadWriteStream[] = compression === 'gzip' ? [createGunzip()] : [];
  stages.push(new ByteLimit(maxBytes, path.basename(src)), tap);
  await pipeline([createReadStream(src, { highWaterMark: 1 << 18 }), ...stages, createWriteStream(dest, { flags: 'wx', mode: 0o600 })] as unknown as [Readable, ...NodeJS.ReadWriteStream[], NodeJS.WritableStream], { signal });
  return { size: tap.bytes, sha256: tap.digest() };
}
