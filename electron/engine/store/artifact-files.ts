import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { ArtifactFiles } from '../codec/artifact-files.js';
import { fsError } from '../errors.js';

/** Stored bytes are read in 256 KiB chunks: one per read is enough to keep decompression busy. */
const READ_CHUNK = 1 << 18;

/** A local folder's artifact files, as the codec reads and writes them: the store's local sets hand these out. */
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
 * Writes to an open file in order, each error told as the operator's (a full disk, no
 * permission) naming the artifact's path. The file handle stays open for the fsync.
 */
class FileSink extends Writable {
  private pending: Promise<void> = Promise.resolve();
  constructor(
    private readonly fh: FileHandle,
    private readonly at: string,
  ) {
    super();
  }
  /** Resolves once no write is in flight, so the handle can be synced or closed. */
  settled(): Promise<void> {
    return this.pending.catch(() => undefined);
  }
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.put(
      chunks.map((c) => c.chunk),
      done,
    );
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
