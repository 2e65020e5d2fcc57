import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { filesPlugin } from '../../electron/engine/sources/files/files.js';
import { filesRestore } from '../../electron/engine/sources/files/files-restore.js';
import { ProgressMeter } from '../../electron/engine/progress.js';
import { FilesSource } from '../../shared/environment.js';
import { Artifact } from '../../shared/manifest.js';
import { requireBinary, useTempDirs } from '../support/tools.js';
import { artifactReader } from '../../electron/engine/codec/index.js';
import { folderArtifacts } from '../../electron/engine/store/artifact-files.js';

/**
 * Archives built to attack the extractor. Each comes with an index and manifest details that list
 * its hostile entry as if it were honest, so only the extractor's own rules can stop it.
 */

const tempDir = useTempDirs();
const meter = () => new ProgressMeter({ operation: 'restore', env: 't' }, { bytes: 0, files: 0 }, undefined);
const GiB = 1 << 30;
const MiB = 1 << 20;

interface TarHeader {
  name: string;
  /** ustar typeflag: '0' file, '1' hard link, '2' symlink, '3' character device, '5' folder, '6' FIFO. */
  type: string;
  size?: number;
  mode?: number;
  linkname?: string;
}

/** One 512-byte ustar header with its checksum. */
function header(h: TarHeader): Buffer {
  const b = Buffer.alloc(512);
  const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;
  b.write(h.name, 0, 100, 'utf8');
  b.write(octal(h.mode ?? 0o644, 8), 100);
  b.write(octal(0, 8), 108);
  b.write(octal(0, 8), 116);
  b.write(octal(h.size ?? 0, 12), 124);
  b.write(octal(1_700_000_000, 12), 136);
  b.write(' '.repeat(8), 148); // the checksum counts its own field as spaces
  b.write(h.type, 156);
  b.write(h.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\0', 257);
  b.write('00', 263);
  b.write(octal(1, 8), 329); // device major and minor, read for typeflag 3 only
  b.write(octal(3, 8), 337);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return b;
}

/** A gzipped tar of hand-made entries, each with its bytes. */
function handTar(entries: (TarHeader & { data?: string })[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(header({ ...e, size: e.type === '0' ? data.length : 0 }), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return gzipSync(Buffer.concat([...parts, Buffer.alloc(1024)]));
}

/** One entry of 1 GiB of zeros, streamed through gzip (about 1 MB), never held in memory. */
async function writeBomb(dest: string): Promise<void> {
  const zeros = Buffer.alloc(MiB);
  function* tar(): Generator<Buffer> {
    yield header({ name: 'zeros.bin', type: '0', size: GiB });
    for (let i = 0; i < GiB / MiB; i++) yield zeros;
    yield Buffer.alloc(1024);
  }
  await pipeline(Readable.from(tar()), createGzip({ level: 9 }), createWriteStream(dest));
}

type Indexed = { path: string; type: 'file'; size: number; sha256: string } | { path: string; type: 'symlink'; target: string } | { path: string; type: 'dir' };
const file = (p: string, data = 'pwned\n'): Indexed => ({ path: p, type: 'file', size: Buffer.byteLength(data), sha256: createHash('sha256').update(data).digest('hex') });

async function sha256(f: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(f)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A set folder holding `archive` as assets.tar.gz and an index listing `entries`, with matching artifacts. */
async function forgeSet(base: string, archive: string, entries: Indexed[], totalBytes?: number): Promise<{ setDir: string; artifacts: Artifact[] }> {
  const setDir = await fs.mkdtemp(path.join(base, 'set-'));
  await fs.copyFile(archive, path.join(setDir, 'assets.tar.gz'));
  const lines = [{ format: 1, source: 'assets', root: '/srv/assets' }, ...entries.map((e) => ({ size: 0, mtime: 1_700_000_000_000, mode: 0o644, ...e }))];
  await fs.writeFile(path.join(setDir, 'assets.files.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const count = (t: Indexed['type']) => entries.filter((e) => e.type === t).length;
  const bytes = totalBytes ?? entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
  const common = { source: 'assets', kind: 'files', encryption: 'none' } as const;
  const stored = async (f: string) => ({ size: (await fs.stat(path.join(setDir, f))).size, sha256: await sha256(path.join(setDir, f)) });
  const artifacts = [
    {
      ...common,
      file: 'assets.tar.gz',
      ...(await stored('assets.tar.gz')),
      compression: 'gzip',
      details: { type: 'archive', fileCount: count('file'), totalBytes: bytes, dirCount: count('dir'), symlinkCount: count('symlink'), indexFile: 'assets.files.jsonl' },
    },
    { ...common, file: 'assets.files.jsonl', ...(await stored('assets.files.jsonl')), compression: 'none', details: { type: 'file-index', entries: entries.length } },
  ];
  return { setDir, artifacts: artifacts.map((a) => Artifact.parse(a)) };
}

interface Case {
  name: string;
  /** Builds the archive in `work` and returns its path, the index entries, the entry an error must name, and paths that must not appear. */
  build: (ground: Ground) => Promise<{ archive: string; entries: Indexed[]; names: string; mustNotExist: string[]; totalBytes?: number; budget?: boolean }>;
}

interface Ground {
  base: string;
  /** A folder outside the staging folder with a sentinel file in it. */
  outside: string;
  staged: string;
  target: string;
}

/** Built once for the file: streaming 1 GiB through gzip takes seconds. */
let bomb = '';
beforeAll(async () => {
  bomb = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-bomb-')), 'bomb.tar.gz');
  await writeBomb(bomb);
});
afterAll(async () => {
  if (bomb) await fs.rm(path.dirname(bomb), { recursive: true, force: true });
});

const tarCmd = (args: string[], cwd: string) => execFileSync(requireBinary('tar', 'tar'), args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

const CASES: Case[] = [
  {
    name: '../x (made by tar)',
    build: async ({ base, staged }) => {
      await fs.mkdir(path.join(base, 'mk/sub'), { recursive: true });
      await fs.writeFile(path.join(base, 'mk/x'), 'pwned\n');
      tarCmd(['-czPf', path.join(base, 'a.tar.gz'), '../x'], path.join(base, 'mk/sub'));
      return { archive: path.join(base, 'a.tar.gz'), entries: [file('../x')], names: '../x', mustNotExist: [path.resolve(staged, '../x'), path.resolve('x')] };
    },
  },
  {
    name: 'a/../../x',
    build: async ({ base, staged }) => {
      await fs.writeFile(
        path.join(base, 'a.tar.gz'),
        handTar([
          { name: 'a/', type: '5', mode: 0o755 },
          { name: 'a/../../x', type: '0', data: 'pwned\n' },
        ]),
      );
      return {
        archive: path.join(base, 'a.tar.gz'),
        entries: [{ path: 'a', type: 'dir' }, file('a/../../x')],
        names: 'a/../../x',
        mustNotExist: [path.resolve(staged, 'a/../../x'), path.resolve(staged, '../x')],
      };
    },
  },
  {
    name: 'an absolute path (made by tar)',
    build: async ({ base, outside }) => {
      const victim = path.join(outside, 'x');
      await fs.writeFile(victim, 'pwned\n');
      tarCmd(['-czPf', path.join(base, 'a.tar.gz'), victim], base);
      await fs.rm(victim);
      return { archive: path.join(base, 'a.tar.gz'), entries: [file(victim)], names: victim, mustNotExist: [victim] };
    },
  },
  {
    name: 'a link out, then a file through it',
    build: async ({ base, outside }) => {
      await fs.writeFile(
        path.join(base, 'a.tar.gz'),
        handTar([
          { name: 'evil', type: '2', linkname: outside },
          { name: 'evil/x', type: '0', data: 'pwned\n' },
        ]),
      );
      return { archive: path.join(base, 'a.tar.gz'), entries: [{ path: 'evil', type: 'symlink', target: outside }, file('evil/x')], names: 'evil/x', mustNotExist: [path.join(outside, 'x')] };
    },
  },
  {
    name: 'a hard link to an outside file',
    build: async ({ base, outside }) => {
      await fs.writeFile(path.join(base, 'a.tar.gz'), handTar([{ name: 'h', type: '1', linkname: path.join(outside, 'sentinel.txt') }]));
      return { archive: path.join(base, 'a.tar.gz'), entries: [file('h', '')], names: 'h (a Link entry', mustNotExist: [path.join(outside, 'x')] };
    },
  },
  {
    name: 'a character device node',
    build: async ({ base, outside }) => {
      await fs.writeFile(path.join(base, 'a.tar.gz'), handTar([{ name: 'dev-null', type: '3', mode: 0o666 }]));
      return { archive: path.join(base, 'a.tar.gz'), entries: [file('dev-null', '')], names: 'dev-null (a CharacterDevice entry', mustNotExist: [path.join(outside, 'x')] };
    },
  },
  {
    name: 'a FIFO (made by tar)',
    build: async ({ base, outside }) => {
      await fs.mkdir(path.join(base, 'mk'));
      execFileSync(requireBinary('mkfifo', 'coreutils'), [path.join(base, 'mk/pipe')]);
      tarCmd(['-czf', path.join(base, 'a.tar.gz'), 'pipe'], path.join(base, 'mk'));
      return { archive: path.join(base, 'a.tar.gz'), entries: [file('pipe', '')], names: 'pipe (a FIFO entry', mustNotExist: [path.join(outside, 'x')] };
    },
  },
  {
    name: 'a bomb: 1 GiB of zeros where the manifest records 1 MiB',
    build: async ({ outside }) => ({
      archive: bomb,
      entries: [{ path: 'zeros.bin', type: 'file', size: GiB, sha256: '0'.repeat(64) }],
      totalBytes: MiB,
      names: `expand past the ${MiB} bytes the manifest records (at zeros.bin)`,
      mustNotExist: [path.join(outside, 'x')],
      budget: true,
    }),
  },
];

async function ground(): Promise<Ground> {
  const base = tempDir('lifeboat-hostile-');
  const outside = path.join(base, 'outside');
  const target = path.join(base, 'work/assets');
  await fs.mkdir(outside);
  await fs.mkdir(target, { recursive: true });
  await fs.writeFile(path.join(outside, 'sentinel.txt'), 'untouched\n');
  await fs.writeFile(path.join(target, 'live.txt'), 'live data\n');
  return { base, outside, target, staged: path.join(base, 'work/.assets.staged') };
}

describe('hostile archives', () => {
  for (const c of CASES) {
    it(`refuses ${c.name}: restore stage and drill both name the entry`, async () => {
      const g = await ground();
      const built = await c.build(g);
      const set = await forgeSet(g.base, built.archive, built.entries, built.totalBytes);
      const src = FilesSource.parse({ kind: 'files', name: 'assets', path: g.target });
      const sentinel = await fs.stat(path.join(g.outside, 'sentinel.txt'));

      let err: { code?: string; message: string } | undefined;
      await filesRestore
        .stage({
          source: src,
          artifacts: set.artifacts,
          reader: artifactReader(folderArtifacts(set.setDir)),
          target: g.target,
          staged: g.staged,
          signal: new AbortController().signal,
          progress: meter(),
        })
        .catch((e: unknown) => {
          err = e as { code?: string; message: string };
        });
      expect(err?.code, err?.message).toBe('UNSAFE_ARCHIVE');
      expect(err?.message).toContain(built.names);
      if (built.budget) expect(err?.message).toMatch(/extraction stopped/);

      expect(
        await fs.lstat(g.staged).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
      for (const p of built.mustNotExist)
        expect(
          await fs.lstat(p).then(
            () => true,
            () => false,
          ),
          p,
        ).toBe(false);
      expect(await fs.readdir(g.outside)).toEqual(['sentinel.txt']);
      expect(await fs.readFile(path.join(g.outside, 'sentinel.txt'), 'utf8')).toBe('untouched\n');
      expect((await fs.stat(path.join(g.outside, 'sentinel.txt'))).mtimeMs).toBe(sentinel.mtimeMs);
      expect(await fs.readdir(g.target)).toEqual(['live.txt']);
      expect((await fs.readdir(path.dirname(g.staged))).sort()).toEqual(['assets']);

      const scratch = await fs.mkdtemp(path.join(g.base, 'drill-'));
      const checks = await filesPlugin.check({
        source: 'assets',
        artifacts: set.artifacts,
        reader: artifactReader(folderArtifacts(set.setDir)),
        scratch,
        signal: new AbortController().signal,
        progress: meter(),
      });
      const extraction = checks.find((ch) => ch.name === 'extracts safely');
      expect(extraction?.status).toBe('FAIL');
      expect(extraction?.reason).toContain(built.names);
      expect(await fs.readdir(scratch)).toEqual([]);
      for (const p of built.mustNotExist)
        expect(
          await fs.lstat(p).then(
            () => true,
            () => false,
          ),
          p,
        ).toBe(false);
      expect(await fs.readdir(g.outside)).toEqual(['sentinel.txt']);
    });
  }
});
