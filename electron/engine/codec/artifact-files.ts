import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { fsError } from '../errors.js';

/** Where a set's artifact files live, as the codec sees them (a store's partial or sealed set). */
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

/** Stored bytes are read in 256 KiB chunks: one per read is enough to keep decompression busy. */
const READ_CHUNK = 1 << 18;

/** The local-folder implementation: the only place the codec touches `fs`. */
export function folderArtifacts(dir: string): ArtifactFiles {
  return {
    async create(file) {
      const at = path.join(dir, file);
      const fh = await fs.open(at, 'wx', 0o600).catch((err: unknown) => Promise.reject(fsError(err, at, true) ?? err));
      const sink = new FileSink(fh, at);
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        await sink.settled();
        await fh.close();
      };
      return {
        stream: sink,
        async commit() {
          try {
            await sink.settled();
            await fh.sync();
          } catch (err) {
            throw fsError(err, at, true) ?? err;
          } finally {
            await close();
          }
        },
        async abort() {
          sink.destroy();
          await close().catch(() => undefined);
          await fs.rm(at, { force: true });
        },
      };
    },
    open(file, opts = {}) {
      return createReadStream(path.join(dir, file), { start: opts.start, signal: opts.signal, highWaterMark: READ_CHUNK });
    },
    localPath: (file) => path.join(dir, file),
  };
}

/**
 * A new scratch file (created exclusively, mode 0600) for an artifact's plain bytes. Its errors
 * stay the filesystem's own (ENOSPC and the path in the message), which a restore's staging reads.
 */
export function scratchFile(dest: string): Writable {
  return createWriteStream(dest, { flags: 'wx', mode: 0o600 });
}

/**
 * Writes to an open file in order, each error told as the operator's (a full disk, no
 * permission) naming the artifact's path. The file handle stays open for the fsync.
 */
class FileSink extends Writable {
  private pending: Promise<void> = Promise.resolve();
  constructor(private readonly fh: FileHandle, private readonly at: string) {
    super();
  }
  /** Resolves once no write is in flight, so the handle can be synced or closed. */
  settled(): Promise<void> {
    return this.pending.catch(() => undefined);
  }
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.put(chunks.map((c) => c.chunk), done);
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.put([chunk], done);
  }
  private put(buffers: Buffer[], done: (err?: Error | null) => void): void {
    this.pending = writeAll(this.fh, buffers).then(
      () => done(),
      (err: unknown) => done(fsError(err, this.at, true) ?? (err as Error)),
    );
  }
}

async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const { bytesWritten } = await fh.writev(buffers);
  if (bytesWritten === total) return;
  let rest = Buffer.concat(buffers).subarray(bytesWritten);
  while (rest.length) rest = rest.subarray((await fh.write(rest)).bytesWritten);
}
