import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Artifact } from '../../../shared/manifest.js';
import { cancelled } from '../errors.js';
import { HashTap } from '../pipeline.js';
import { scratchFile, type ArtifactFiles, type StoredFiles } from './artifact-files.js';
import { budgetOf, ByteCount, ByteLimit, StoredCheck } from './checks.js';
import { stagesOf, type Packing } from './stages.js';

/** What the codec writes into an artifact's manifest entry: its file and its bytes as stored. */
export type StoredFields = Pick<Artifact, 'file' | 'size' | 'sha256' | 'compression' | 'encryption'>;

/** A written artifact: its stored fields, and the size and SHA-256 of the plain bytes the source produced. */
export interface Written {
  stored: StoredFields;
  raw: { size: number; sha256: string };
}

export interface WriteOptions {
  /** The plug-in's choice: gzip, or none for bytes that are already compressed (a pg_dump archive, the index). */
  compression: Packing['compression'];
  signal?: AbortSignal;
  /** Called with each count of plain bytes read from the source. */
  onRawBytes?: (n: number) => void;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Called with each count of plain bytes as they come out. */
  onBytes?: (n: number) => void;
}

/** The capture half: a plug-in hands it a plain stream and gets the artifact's stored fields back. */
export interface ArtifactWriter {
  /**
   * Streams `input` through compression (and encryption, when it comes) and hashing into a new
   * artifact `file`, in one pass with bounded memory, then makes it durable. On any failure the
   * file is removed and the error (CANCELLED when the signal fired) reaches the caller.
   */
  write(file: string, input: Readable, opts: WriteOptions): Promise<Written>;
  /** Reads back an artifact this run wrote (a capture that counts what it just stored). */
  open(artifact: Artifact, opts?: ReadOptions): Readable;
}

/** The check and restore half: an artifact's plain bytes, proved against its manifest entry. */
export interface ArtifactReader {
  /**
   * The plain bytes as a stream. The stored bytes' size and SHA-256 are checked as they pass (a
   * mismatch errors the stream at their end), and decoding stops at the budget the manifest
   * gives (DRILL_FAILED naming the file).
   */
  open(artifact: Artifact, opts?: ReadOptions): Readable;
  /** Writes the plain bytes to `dest` (a new scratch file); returns their size and SHA-256 for the caller to compare. */
  materialize(artifact: Artifact, dest: string, opts?: ReadOptions): Promise<{ size: number; sha256: string }>;
  /** Checks the stored bytes against the manifest without decoding; throws an Error saying what differs. */
  verify(artifact: Artifact, opts?: ReadOptions): Promise<void>;
  /**
   * A path to a file with the plain bytes, for a program that reads a file itself: the stored
   * file when no stage changes its bytes and it lies on this machine, else the plain bytes
   * materialized to `scratch` (which must then be given).
   */
  fileFor(artifact: Artifact, scratch: string | undefined, opts?: ReadOptions): Promise<string>;
}

/** Reads a stream to its end; the taps before it have counted and hashed every chunk. */
async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source) {
    // nothing to keep
  }
}

/** A chain of streams from a source to a sink, for `pipeline`'s array form. */
type Chain = (NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream)[];

/** The artifact codec over one set's files: the chain of stages each artifact is written and read through. */
export class ArtifactCodec implements ArtifactWriter, ArtifactReader {
  /** `encryption` is the run's, from the environment; none until encryption exists. */
  constructor(
    private readonly files: ArtifactFiles,
    private readonly encryption: Packing['encryption'] = 'none',
  ) {}

  async write(file: string, input: Readable, opts: WriteOptions): Promise<Written> {
    const packing: Packing = { compression: opts.compression, encryption: this.encryption };
    const raw = new HashTap(opts.onRawBytes);
    const stored = new HashTap();
    // The source is read from now on, before the file exists: a program's output that nobody
    // listens to when the program exits is thrown away by Node. The gate holds what comes
    // meanwhile (back-pressure keeps it to one buffer).
    const gate = new PassThrough();
    const front: Chain = [input, raw, ...stagesOf(packing).map((s) => s.encode()), stored, gate];
    const encoding = pipeline(front, { signal: opts.signal });
    encoding.catch(() => undefined); // settled below, with the write
    let target: Awaited<ReturnType<ArtifactFiles['create']>> | undefined;
    try {
      target = await this.files.create(file);
      const results = await Promise.allSettled([encoding, pipeline(gate, target.stream, { signal: opts.signal })]);
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      // The first cause, not the other half's "premature close" that follows it.
      const cause = failures.find((e) => (e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') ?? failures[0];
      if (failures.length) throw cause;
      await target.commit();
    } catch (err) {
      input.destroy();
      gate.destroy();
      await encoding.catch(() => undefined);
      await target?.abort();
      if (opts.signal?.aborted) throw cancelled();
      throw err;
    }
    return { stored: { file, size: stored.bytes, sha256: stored.digest(), ...packing }, raw: { size: raw.bytes, sha256: raw.digest() } };
  }

  open(artifact: Artifact, opts: ReadOptions = {}): Readable {
    const out = new PassThrough();
    const decode = stagesOf(artifact)
      .reverse()
      .map((s) => s.decode());
    const chain: Chain = [this.files.open(artifact.file, { signal: opts.signal }), new StoredCheck(artifact), ...decode];
    if (decode.length) chain.push(new ByteLimit(budgetOf(artifact), artifact.file));
    // Counting only: hashing the plain bytes here too would be a third SHA-256 over the same data.
    if (opts.onBytes) chain.push(new ByteCount(opts.onBytes));
    chain.push(out);
    pipeline(chain, { signal: opts.signal }).catch((err: unknown) => out.destroy(err as Error));
    return out;
  }

  async materialize(artifact: Artifact, dest: string, opts: ReadOptions = {}): Promise<{ size: number; sha256: string }> {
    const tap = new HashTap();
    await pipeline(this.open(artifact, opts), tap, scratchFile(dest), { signal: opts.signal });
    return { size: tap.bytes, sha256: tap.digest() };
  }

  async verify(artifact: Artifact, opts: ReadOptions = {}): Promise<void> {
    // Counted per chunk: a large artifact is progress all along, not once at its end.
    await pipeline(this.files.open(artifact.file, { signal: opts.signal }), new StoredCheck(artifact, opts.onBytes), drain, { signal: opts.signal });
  }

  async fileFor(artifact: Artifact, scratch: string | undefined, opts: ReadOptions = {}): Promise<string> {
    if (!stagesOf(artifact).length && this.files.localPath) return this.files.localPath(artifact.file);
    if (!scratch) throw new Error(`${artifact.file} must be decoded to a scratch file first, and there is none here`);
    await this.materialize(artifact, scratch, opts);
    return scratch;
  }
}

/** The writer a backup run gives each source's capture, over its partial set. */
export function artifactWriter(files: ArtifactFiles): ArtifactWriter {
  return new ArtifactCodec(files);
}

/** The reader a drill or a restore gives each source, over a sealed set. */
export function artifactReader(files: StoredFiles): ArtifactReader {
  const readOnly: ArtifactFiles = {
    open: (file, opts) => files.open(file, opts),
    localPath: files.localPath ? (file) => files.localPath!(file) : undefined,
    create: () => Promise.reject(new Error('A sealed set is read only: nothing is written into it.')),
  };
  return new ArtifactCodec(readOnly);
}
