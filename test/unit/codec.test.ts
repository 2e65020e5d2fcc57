import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Artifact } from '../../shared/manifest.js';
import { artifactReader, artifactWriter, type ArtifactFiles, type Written } from '../../electron/engine/codec/index.js';
import { folderArtifacts } from '../../electron/engine/store/artifact-files.js';
import { failure, requireBinary, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const signal = () => new AbortController().signal;

/** A sqlite artifact entry for what was written: the kind whose budget is the raw size it records. */
function entryOf(w: Written, rawSize = w.raw.size): Artifact {
  return Artifact.parse({
    source: 'db',
    kind: 'sqlite',
    ...w.stored,
    details: { type: 'sqlite', rawSize, rawSha256: w.raw.sha256, pageSize: 4096, sqliteVersion: '3', journalMode: 'wal', tables: [] },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Plain bytes that compress, with a random part that does not. */
const plain = Buffer.concat([Buffer.from('SQLite format 3\0'.repeat(20_000)), randomBytes(300_000)]);

describe('artifact codec: write and read back', () => {
  it('gzip: the stored file is the gzip of the source at level 6 in 64 KiB chunks, mode 0600, and reads back to the same bytes', async () => {
    const dir = tempDir();
    const files = folderArtifacts(dir);
    const w = await artifactWriter(files).write('db.sqlite.gz', Readable.from([plain.subarray(0, 1000), plain.subarray(1000)]), { compression: 'gzip', signal: signal() });
    const stored = await fs.readFile(path.join(dir, 'db.sqlite.gz'));
    expect(stored.equals(gzipSync(plain, { level: 6, chunkSize: 64 * 1024 }))).toBe(true);
    expect(w.stored).toEqual({ file: 'db.sqlite.gz', size: stored.length, sha256: sha(stored), compression: 'gzip', encryption: 'none' });
    expect(w.raw).toEqual({ size: plain.length, sha256: sha(plain) });
    expect((await fs.stat(path.join(dir, 'db.sqlite.gz'))).mode & 0o777).toBe(0o600);
    // Another gzip reads it, as the recovery card tells an operator to.
    expect(execFileSync(requireBinary('gzip', 'gzip'), ['-dc', path.join(dir, 'db.sqlite.gz')], { maxBuffer: 1 << 26 }).equals(plain)).toBe(true);

    const reader = artifactReader(files);
    const artifact = entryOf(w);
    let counted = 0;
    expect((await readAll(reader.open(artifact, { onBytes: (n) => (counted += n) }))).equals(plain)).toBe(true);
    expect(counted).toBe(plain.length);
    const out = path.join(tempDir(), 'db.sqlite');
    expect(await reader.materialize(artifact, out)).toEqual({ size: plain.length, sha256: sha(plain) });
    expect((await fs.readFile(out)).equals(plain)).toBe(true);
    await reader.verify(artifact);
    // Nothing to decode: a program that reads a file itself is given a decoded copy.
    const copy = path.join(tempDir(), 'copy');
    expect(await reader.fileFor(artifact, copy)).toBe(copy);
  });

  it('none: the stored bytes are the plain bytes, and a program is given the stored file itself', async () => {
    const dir = tempDir();
    const files = folderArtifacts(dir);
    const w = await artifactWriter(files).write('db.dump', Readable.from([plain]), { compression: 'none' });
    expect((await fs.readFile(path.join(dir, 'db.dump'))).equals(plain)).toBe(true);
    expect(w.stored).toMatchObject({ size: plain.length, sha256: sha(plain), compression: 'none', encryption: 'none' });
    const artifact = entryOf(w);
    expect((await readAll(artifactReader(files).open(artifact))).equals(plain)).toBe(true);
    expect(await artifactReader(files).fileFor(artifact, undefined)).toBe(path.join(dir, 'db.dump'));
  });

  it("keeps a program's whole output when the program exits before the artifact file is created", async () => {
    const dir = tempDir();
    const child = spawn(requireBinary('printf', 'coreutils'), ['a dump of 28 bytes, complete'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = once(child, 'exit').then(() => new Promise((r) => setImmediate(r)));
    // A store whose file takes until after the exit to create (a slow disk, a remote store).
    const folder = folderArtifacts(dir);
    const slow: ArtifactFiles = { open: folder.open, create: async (file) => (await exited, folder.create(file)) };
    const w = await artifactWriter(slow).write('notes.out.gz', child.stdout, { compression: 'gzip' });
    expect(w.raw.size).toBe(28);
    expect(execFileSync('gzip', ['-dc', path.join(dir, 'notes.out.gz')], { encoding: 'utf8' })).toBe('a dump of 28 bytes, complete');
  });

  it('refuses to write over an artifact that exists, and leaves it as it was', async () => {
    const dir = tempDir();
    await fs.writeFile(path.join(dir, 'db.dump'), 'mine');
    const err = await artifactWriter(folderArtifacts(dir))
      .write('db.dump', Readable.from([plain]), { compression: 'none' })
      .then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
    expect(err?.code).toBe('EEXIST');
    expect(await fs.readFile(path.join(dir, 'db.dump'), 'utf8')).toBe('mine');
  });
});

describe('artifact codec: damaged and hostile artifacts', () => {
  async function written(compression: 'gzip' | 'none') {
    const dir = tempDir();
    const files = folderArtifacts(dir);
    const w = await artifactWriter(files).write('db.sqlite.gz', Readable.from([plain]), { compression });
    return { file: path.join(dir, 'db.sqlite.gz'), reader: artifactReader(files), artifact: entryOf(w) };
  }

  it('a flipped byte: verify and open both fail with the SHA-256 the drill names', async () => {
    const { file, reader, artifact } = await written('none');
    const bytes = await fs.readFile(file);
    bytes[1234] = bytes[1234]! ^ 0x01;
    await fs.writeFile(file, bytes);
    const want = `SHA-256 is ${sha(bytes)}, the manifest records ${artifact.sha256}: the artifact is damaged`;
    await expect(reader.verify(artifact)).rejects.toThrow(want);
    await expect(readAll(reader.open(artifact))).rejects.toThrow(want);
  });

  it('a truncated file: verify names both sizes; open fails before the stream ends', async () => {
    const { file, reader, artifact } = await written('gzip');
    await fs.truncate(file, artifact.size - 100);
    await expect(reader.verify(artifact)).rejects.toThrow(`${artifact.size - 100} bytes, the manifest records ${artifact.size}: the artifact is truncated or damaged`);
    await expect(readAll(reader.open(artifact))).rejects.toThrow(/truncated or damaged|unexpected end of file/);
  });

  it('expansion past the raw size the manifest records stops at that budget', async () => {
    const dir = tempDir();
    const files = folderArtifacts(dir);
    // 64 MiB of zeros stored in about 64 KiB: a bomb when the manifest says 1 MiB.
    const zeros = Buffer.alloc(1 << 20);
    const w = await artifactWriter(files).write('db.sqlite.gz', Readable.from(Array.from({ length: 64 }, () => zeros)), { compression: 'gzip' });
    const bomb = entryOf(w, 1 << 20);
    let delivered = 0;
    const err = await failure(readAll(artifactReader(files).open(bomb, { onBytes: (n) => (delivered += n) })));
    expect(err).toMatchObject({ code: 'DRILL_FAILED', message: `db.sqlite.gz expands past the ${1 << 20} bytes its manifest records.` });
    expect(delivered).toBeLessThanOrEqual(1 << 20);
    const out = path.join(tempDir(), 'db.sqlite');
    expect((await failure(artifactReader(files).materialize(bomb, out))).code).toBe('DRILL_FAILED');
    expect((await fs.stat(out)).size).toBeLessThanOrEqual(1 << 20);
  });
});

describe('artifact codec: failures while writing', () => {
  it('an error of the source stream reaches the caller and removes the partial file', async () => {
    const dir = tempDir();
    async function* source() {
      yield randomBytes(1 << 20);
      throw new Error('the dump program died');
    }
    await expect(artifactWriter(folderArtifacts(dir)).write('db.sqlite.gz', Readable.from(source()), { compression: 'gzip' })).rejects.toThrow('the dump program died');
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('a cancel stops the write with CANCELLED and removes the partial file', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const chunk = randomBytes(1 << 16);
    let read = 0;
    const endless = new Readable({
      read() {
        this.push(chunk);
      },
    });
    const err = await failure(
      artifactWriter(folderArtifacts(dir)).write('db.sqlite.gz', endless, {
        compression: 'gzip',
        signal: controller.signal,
        onRawBytes: (n) => {
          read += n;
          if (read > 4 << 20) controller.abort();
        },
      }),
    );
    expect(err.code).toBe('CANCELLED');
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('a file where the set folder should be: LOCATION_UNWRITABLE naming the path, for root too', async () => {
    const notAFolder = path.join(tempDir(), 'set');
    await fs.writeFile(notAFolder, '');
    const err = await failure(artifactWriter(folderArtifacts(notAFolder)).write('db.sqlite.gz', Readable.from([plain]), { compression: 'gzip' }));
    expect(err.code).toBe('LOCATION_UNWRITABLE');
    expect(err.message).toContain(path.join(notAFolder, 'db.sqlite.gz'));
  });
});
