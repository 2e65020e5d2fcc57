import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { filesPlugin } from '../../electron/engine/sources/files/files.js';
import { Selection } from '../../electron/engine/sources/files/walk.js';
import { ProgressMeter } from '../../electron/engine/progress.js';
import { FilesSource } from '../../shared/environment.js';
import { Artifact } from '../../shared/manifest.js';
import { DrillCheck } from '../../shared/drill.js';
import { failure } from '../support/tools.js';
import { artifactReader, artifactWriter } from '../../electron/engine/codec/index.js';
import { folderArtifacts } from '../../electron/engine/store/artifact-files.js';

const temps: string[] = [];
afterEach(async () => {
  for (const t of temps.splice(0)) await fs.rm(t, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const t = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-files-'));
  temps.push(t);
  return t;
}

const meter = () => new ProgressMeter({ operation: 'backup', env: 't' }, { bytes: 0, files: 0 }, undefined);
const source = (p: string, globs: { include?: string[]; exclude?: string[] } = {}) => FilesSource.parse({ kind: 'files', name: 'assets', path: p, ...globs });

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Captures into fresh set and scratch folders under `base`. */
async function capture(base: string, src: FilesSource, progress = meter(), signal = new AbortController().signal) {
  const dir = await fs.mkdtemp(path.join(base, 'set-'));
  const scratch = await fs.mkdtemp(path.join(base, 'scratch-'));
  const artifacts = (await filesPlugin.capture({ source: src, writer: artifactWriter(folderArtifacts(dir)), scratch, signal, progress })).map((a) => Artifact.parse(a));
  return { dir, artifacts };
}

/**
 * Runs the files source's checks. A forged set's artifacts are described by their own bytes, as
 * the drill's hash check has passed them before these checks run (the codec refuses bytes the
 * manifest does not record, which is the drill's first check, not these).
 */
async function drill(setDir: string, recorded: Artifact[], scratch: string): Promise<DrillCheck[]> {
  const artifacts = await Promise.all(recorded.map(async (a) => ({ ...a, size: (await fs.stat(path.join(setDir, a.file))).size, sha256: await sha256(path.join(setDir, a.file)) })));
  const checks = await filesPlugin.check({ source: 'assets', artifacts, reader: artifactReader(folderArtifacts(setDir)), scratch, signal: new AbortController().signal, progress: meter() });
  return checks.map((c) => DrillCheck.parse(c));
}

const tarList = (archive: string) =>
  execFileSync('tar', ['--quoting-style=literal', '-tzf', archive], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } })
    .split('\n')
    .filter(Boolean);

const UNICODE = 'café menu — ünïcode ☃.txt';
const MTIME = new Date('2023-11-14T22:13:20.123Z');

async function fixture(base: string): Promise<string> {
  const root = path.join(base, 'assets');
  await fs.mkdir(path.join(root, 'docs/nested/deeper'), { recursive: true });
  await fs.mkdir(path.join(root, 'empty'));
  await fs.writeFile(path.join(root, 'docs/readme.txt'), 'hello, lifeboat\n');
  await fs.chmod(path.join(root, 'docs/readme.txt'), 0o640);
  await fs.utimes(path.join(root, 'docs/readme.txt'), MTIME, MTIME);
  await fs.writeFile(path.join(root, 'docs/nested/deeper/note.md'), '# deep\n');
  await fs.writeFile(path.join(root, 'blob.bin'), randomBytes(5 * 1024 * 1024));
  await fs.writeFile(path.join(root, UNICODE), 'unicode name\n');
  await fs.writeFile(path.join(root, 'Re:notes.txt'), 'archiver would strip "Re:"\n');
  await fs.writeFile(path.join(root, 'back\\slash.txt'), 'archiver would turn \\ into /\n');
  await fs.writeFile(path.join(root, '.env'), 'SECRET=1\n');
  await fs.symlink('docs/readme.txt', path.join(root, 'link-inside'));
  await fs.symlink('/etc/hostname', path.join(root, 'link-outside'));
  return root;
}

const EXPECTED = [
  '.env',
  'Re:notes.txt',
  'back\\slash.txt',
  'blob.bin',
  UNICODE,
  'docs/',
  'docs/nested/',
  'docs/nested/deeper/',
  'docs/nested/deeper/note.md',
  'docs/readme.txt',
  'empty/',
  'link-inside',
  'link-outside',
];
const FILES = ['.env', 'Re:notes.txt', 'back\\slash.txt', 'blob.bin', UNICODE, 'docs/nested/deeper/note.md', 'docs/readme.txt'];

describe('files source: capture', () => {
  it('packs files, folders and links that system tar lists and extracts byte for byte', async () => {
    const base = await tempDir();
    const root = await fixture(base);
    // Owners the index records beside each mode: ids, and names where they resolve (1234 has none here).
    await fs.chown(path.join(root, 'docs/readme.txt'), 1234, 1234);
    await fs.chmod(path.join(root, 'docs/readme.txt'), 0o640);
    await fs.chmod(root, 0o2775);
    const progress = meter();
    const { dir, artifacts } = await capture(base, source(root), progress);
    const [archive, index] = artifacts;
    expect(archive?.file).toBe('assets.tar.gz');
    expect(index?.file).toBe('assets.files.jsonl');
    for (const a of artifacts) expect(execFileSync('sha256sum', [path.join(dir, a.file)], { encoding: 'utf8' }).split(' ')[0]).toBe(a.sha256);
    expect(archive?.details).toMatchObject({ type: 'archive', fileCount: 7, dirCount: 4, symlinkCount: 2, indexFile: 'assets.files.jsonl' });
    expect(progress.filesDone).toBe(7);

    expect(tarList(path.join(dir, 'assets.tar.gz'))).toEqual(EXPECTED);
    const out = path.join(base, 'out');
    await fs.mkdir(out);
    execFileSync('tar', ['-xzf', path.join(dir, 'assets.tar.gz'), '-C', out]);
    for (const f of FILES) expect(await sha256(path.join(out, f)), f).toBe(await sha256(path.join(root, f)));
    expect(await fs.readlink(path.join(out, 'link-inside'))).toBe('docs/readme.txt');
    expect(await fs.readlink(path.join(out, 'link-outside'))).toBe('/etc/hostname');
    expect((await fs.lstat(path.join(out, 'empty'))).isDirectory()).toBe(true);
    const readme = await fs.stat(path.join(out, 'docs/readme.txt'));
    expect(readme.mode & 0o777).toBe(0o640);
    expect(Math.round(readme.mtimeMs)).toBe(MTIME.getTime());

    const lines = (await fs.readFile(path.join(dir, 'assets.files.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ format: 1, source: 'assets', root, mode: 0o2775, uid: 0, gid: 0, user: 'root', group: 'root' });
    expect(lines.slice(1).map((e) => (e.type === 'dir' ? `${String(e.path)}/` : e.path))).toEqual(EXPECTED);
    expect(index?.details).toEqual({ type: 'file-index', entries: EXPECTED.length });
    const totalBytes = lines.slice(1).reduce((s, e) => s + (e.type === 'file' ? Number(e.size) : 0), 0);
    expect(archive?.details).toMatchObject({ totalBytes });
    for (const e of lines.slice(1)) {
      if (e.type === 'file') expect(e.sha256, String(e.path)).toBe(await sha256(path.join(root, String(e.path))));
    }
    expect(lines.find((e) => e.path === 'link-outside')).toMatchObject({ type: 'symlink', target: '/etc/hostname' });
    expect(lines.find((e) => e.path === 'docs/readme.txt')).toEqual({
      path: 'docs/readme.txt',
      type: 'file',
      size: 16,
      mtime: MTIME.getTime(),
      mode: 0o640,
      uid: 1234,
      gid: 1234,
      sha256: await sha256(path.join(root, 'docs/readme.txt')),
    });
    expect(lines.find((e) => e.path === 'docs')).toMatchObject({ uid: 0, gid: 0, user: 'root', group: 'root' });
  });

  it('takes exactly what include globs select and prunes excluded folders', async () => {
    const base = await tempDir();
    const root = path.join(base, 'faiss');
    await fs.mkdir(path.join(root, 'sub'), { recursive: true });
    await fs.mkdir(path.join(root, 'cache/deep'), { recursive: true });
    for (const f of ['a.index', 'a.meta.json', 'b.index', 'b.meta.json', 'notes.txt', 'sub/c.index', 'sub/c.meta.json', 'cache/x.bin', 'cache/deep/y.bin']) {
      await fs.writeFile(path.join(root, f), f);
    }
    const faiss = await capture(base, source(root, { include: ['*.index', '*.meta.json'] }));
    expect(tarList(path.join(faiss.dir, 'assets.tar.gz'))).toEqual(['a.index', 'a.meta.json', 'b.index', 'b.meta.json']);
    expect(faiss.artifacts[0]?.details).toMatchObject({ fileCount: 4, dirCount: 0, symlinkCount: 0, totalBytes: 36 });

    const pruned = await capture(base, source(root, { exclude: ['cache/**'] }));
    expect(tarList(path.join(pruned.dir, 'assets.tar.gz'))).toEqual(['a.index', 'a.meta.json', 'b.index', 'b.meta.json', 'notes.txt', 'sub/', 'sub/c.index', 'sub/c.meta.json']);

    const sel = new Selection({ include: ['*.index'], exclude: ['cache/**'] });
    expect(sel.excludes('cache')).toBe(true); // so the walk never enters it
    expect(sel.mayHoldMatches('sub')).toBe(false); // `*` stays at the top level
    expect(new Selection({ include: ['sub/*.index'], exclude: [] }).mayHoldMatches('sub')).toBe(true);
  });

  it('refuses a file that grows while it is read, and leaves no artifact behind', async () => {
    const base = await tempDir();
    const root = path.join(base, 'live');
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'a-small.txt'), 'small\n');
    const chunk = randomBytes(1 << 20);
    const fh = await fs.open(path.join(root, 'growing.log'), 'w');
    for (let i = 0; i < 50; i++) await fh.write(chunk);
    await fh.close();
    const grower = spawn(process.execPath, ['-e', 'const fs=require("fs");const b=Buffer.alloc(65536,7);setInterval(()=>fs.appendFileSync(process.argv[1],b),5)', path.join(root, 'growing.log')], {
      stdio: 'ignore',
    });
    try {
      while ((await fs.stat(path.join(root, 'growing.log'))).size <= 50 << 20) await new Promise((r) => setTimeout(r, 10));
      const dir = await fs.mkdtemp(path.join(base, 'set-'));
      const err = await failure(filesPlugin.capture({ source: source(root), writer: artifactWriter(folderArtifacts(dir)), scratch: base, signal: new AbortController().signal, progress: meter() }));
      expect(err.code).toBe('SOURCE_CHANGED');
      expect(err.message).toContain('growing.log');
      expect(err.hint).toMatch(/exclude "growing.log"/);
      expect(await fs.readdir(dir)).toEqual([]);
    } finally {
      grower.kill();
    }
  });

  it('stops when cancelled mid-capture and leaves no artifact behind', async () => {
    const base = await tempDir();
    const root = path.join(base, 'big');
    await fs.mkdir(root);
    const chunk = randomBytes(1 << 20);
    for (let i = 0; i < 24; i++) await fs.writeFile(path.join(root, `part-${String(i).padStart(2, '0')}.bin`), Buffer.concat([chunk, chunk, chunk, chunk]));
    const dir = await fs.mkdtemp(path.join(base, 'set-'));
    const controller = new AbortController();
    const progress = meter();
    const watch = setInterval(() => {
      if (progress.bytesDone > 8 << 20) controller.abort();
    }, 2);
    try {
      const err = await failure(filesPlugin.capture({ source: source(root), writer: artifactWriter(folderArtifacts(dir)), scratch: base, signal: controller.signal, progress }));
      expect(err.code).toBe('CANCELLED');
      expect(progress.bytesDone).toBeLessThan(96 << 20);
      expect(await fs.readdir(dir)).toEqual([]);
    } finally {
      clearInterval(watch);
    }
  });
});

describe('files source: drill check', () => {
  async function goodSet() {
    const base = await tempDir();
    const root = await fixture(base);
    const { dir, artifacts } = await capture(base, source(root));
    const scratch = await fs.mkdtemp(path.join(base, 'drill-'));
    return { base, root, dir, artifacts, scratch };
  }

  /** A set folder holding `archive` as assets.tar.gz beside the good index, described by the good artifacts. */
  async function setWith(base: string, good: { dir: string; artifacts: Artifact[] }, archive: string): Promise<string> {
    const setDir = await fs.mkdtemp(path.join(base, 'forged-'));
    await fs.copyFile(archive, path.join(setDir, 'assets.tar.gz'));
    await fs.copyFile(path.join(good.dir, 'assets.files.jsonl'), path.join(setDir, 'assets.files.jsonl'));
    return setDir;
  }

  const failed = (checks: DrillCheck[]) => checks.filter((c) => c.status === 'FAIL');

  it('passes every check on the artifacts it made', async () => {
    const { dir, artifacts, scratch } = await goodSet();
    const checks = await drill(dir, artifacts, scratch);
    expect(failed(checks)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'index parses',
      'extracts safely',
      'file count and bytes as recorded',
      'entries match the index',
      "every file's SHA-256 matches the index",
      'links as recorded',
      'times, modes and owners match the index',
    ]);
    expect(await fs.readdir(scratch)).toEqual([]);
  });

  it('fails naming an extra file, and a file whose bytes differ from the index', async () => {
    const { base, dir, artifacts, scratch } = await goodSet();
    const tree = path.join(base, 'tree');
    await fs.mkdir(tree);
    execFileSync('tar', ['-xzf', path.join(dir, 'assets.tar.gz'), '-C', tree]);
    const names = await fs.readdir(tree);

    await fs.writeFile(path.join(tree, 'extra.txt'), '');
    execFileSync('tar', ['-czf', path.join(base, 'extra.tar.gz'), '-C', tree, ...names, 'extra.txt']);
    const extra = await drill(await setWith(base, { dir, artifacts }, path.join(base, 'extra.tar.gz')), artifacts, scratch);
    // GNU tar's default format keeps whole seconds, so its times no longer match the index either.
    expect(failed(extra).map((c) => c.name)).toEqual(['file count and bytes as recorded', 'entries match the index', 'times, modes and owners match the index']);
    expect(failed(extra)[1]?.reason).toContain('extra.txt');

    // More file bytes than the manifest records: extraction stops at the budget, naming where.
    await fs.writeFile(path.join(tree, 'extra.txt'), randomBytes(4096));
    execFileSync('tar', ['-czf', path.join(base, 'bomb.tar.gz'), '-C', tree, ...names, 'extra.txt']);
    const bomb = await drill(await setWith(base, { dir, artifacts }, path.join(base, 'bomb.tar.gz')), artifacts, scratch);
    expect(failed(bomb).map((c) => c.name)).toEqual(['extracts safely']);
    expect(failed(bomb)[0]?.reason).toMatch(/expand past the \d+ bytes the manifest records \(at extra.txt\)/);
    expect(await fs.readdir(scratch)).toEqual([]);

    await fs.rm(path.join(tree, 'extra.txt'));
    await fs.writeFile(path.join(tree, 'docs/readme.txt'), 'HELLO, LIFEBOAT\n'); // same size, other bytes
    execFileSync('tar', ['-czf', path.join(base, 'changed.tar.gz'), '-C', tree, ...names]);
    const changed = await drill(await setWith(base, { dir, artifacts }, path.join(base, 'changed.tar.gz')), artifacts, scratch);
    expect(failed(changed).map((c) => c.name)).toEqual(["every file's SHA-256 matches the index", 'times, modes and owners match the index']);
    expect(failed(changed)[0]?.reason).toContain('docs/readme.txt');
  });

  it('refuses entries that climb out with ".." or have an absolute path, writing nothing outside scratch', async () => {
    const { base, dir, artifacts, scratch } = await goodSet();
    const work = path.join(base, 'hostile/sub');
    await fs.mkdir(work, { recursive: true });
    await fs.writeFile(path.join(base, 'hostile/escape.txt'), 'escaped\n');
    execFileSync('tar', ['-czf', path.join(base, 'climb.tar.gz'), '-P', '../escape.txt'], { cwd: work });
    expect(tarList(path.join(base, 'climb.tar.gz'))).toEqual(['../escape.txt']);
    const climb = await drill(await setWith(base, { dir, artifacts }, path.join(base, 'climb.tar.gz')), artifacts, scratch);
    const refused = failed(climb).find((c) => c.name === 'extracts safely');
    expect(refused?.reason).toContain('../escape.txt');
    expect(await fs.readdir(scratch)).toEqual([]);
    await expect(fs.access(path.join(path.dirname(scratch), 'escape.txt'))).rejects.toThrow();

    const victim = path.join(base, 'victim.txt');
    await fs.writeFile(victim, 'would be overwritten\n');
    execFileSync('tar', ['-czf', path.join(base, 'absolute.tar.gz'), '-P', victim]);
    await fs.rm(victim);
    const absolute = await drill(await setWith(base, { dir, artifacts }, path.join(base, 'absolute.tar.gz')), artifacts, scratch);
    expect(failed(absolute).find((c) => c.name === 'extracts safely')?.reason).toContain(victim);
    await expect(fs.access(victim)).rejects.toThrow();
    expect(await fs.readdir(scratch)).toEqual([]);
  });

  it('fails naming the line of a malformed index', async () => {
    const { base, dir, artifacts, scratch } = await goodSet();
    const setDir = await setWith(base, { dir, artifacts }, path.join(dir, 'assets.tar.gz'));
    const lines = (await fs.readFile(path.join(setDir, 'assets.files.jsonl'), 'utf8')).split('\n');
    lines[3] = '{"path": "docs/", oops';
    await fs.writeFile(path.join(setDir, 'assets.files.jsonl'), lines.join('\n'));
    const checks = await drill(setDir, artifacts, scratch);
    expect(failed(checks)[0]).toMatchObject({ name: 'index parses', target: 'assets.files.jsonl' });
    expect(failed(checks)[0]?.reason).toContain('line 4');
  });
});

describe('files source: inspect', () => {
  it('counts what will be packed', async () => {
    const base = await tempDir();
    const root = await fixture(base);
    const got = await filesPlugin.inspect(source(root), new AbortController().signal);
    let bytes = 0;
    for (const f of FILES) bytes += (await fs.stat(path.join(root, f))).size;
    expect(got).toEqual({ files: FILES.length, bytes });
  });

  it('names a missing folder, a file given as a folder, and a FIFO the globs take', async () => {
    const base = await tempDir();
    const signal = new AbortController().signal;
    expect((await failure(filesPlugin.inspect(source(path.join(base, 'nope')), signal))).code).toBe('SOURCE_MISSING');
    await fs.writeFile(path.join(base, 'file.txt'), 'x');
    expect((await failure(filesPlugin.inspect(source(path.join(base, 'file.txt')), signal))).code).toBe('SOURCE_NOT_FOLDER');
    const root = path.join(base, 'withfifo');
    await fs.mkdir(root);
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    const fifo = await failure(filesPlugin.inspect(source(root), signal));
    expect(fifo).toMatchObject({ code: 'SOURCE_UNREADABLE' });
    expect(fifo.message).toContain(path.join(root, 'pipe'));
    expect(fifo.hint).toContain('exclude');
    expect(await filesPlugin.inspect(source(root, { exclude: ['pipe'] }), signal)).toEqual({ bytes: 0, files: 0 });
  });

  it('names an unreadable subfolder (run as an unprivileged user when tests run as root)', async () => {
    const base = await tempDir();
    await fs.chmod(base, 0o755);
    const root = path.join(base, 'src');
    await fs.mkdir(path.join(root, 'locked'), { recursive: true });
    await fs.writeFile(path.join(root, 'ok.txt'), 'ok');
    await fs.writeFile(path.join(root, 'locked/secret.txt'), 'secret');
    await fs.chmod(path.join(root, 'locked'), 0o000);
    let result: { code?: string; message?: string };
    if (process.getuid?.() !== 0) {
      result = await failure(filesPlugin.inspect(source(root), new AbortController().signal));
    } else {
      const probe = path.join(base, 'probe.mts'); // .mts: the temp folder has no package.json saying "module"
      const plugin = path.resolve('electron/engine/sources/files/files.ts');
      await fs.writeFile(
        probe,
        `import { filesPlugin } from ${JSON.stringify(plugin)};
const source = { kind: 'files' as const, name: 'assets', path: process.argv[2] ?? '', include: ['**/*'], exclude: [] };
try {
  console.log(JSON.stringify({ ok: await filesPlugin.inspect(source, new AbortController().signal) }));
} catch (err) {
  const e = err as { code?: string; message: string };
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
`,
      );
      await fs.chmod(probe, 0o644);
      const node = [process.execPath, path.resolve('bin/run-ts.js'), probe, root];
      const runners: [string, string[]][] = [
        ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...node]],
        ['runuser', ['-u', 'nobody', '--', ...node]],
      ];
      let out: string | undefined;
      for (const [cmd, args] of runners) {
        try {
          out = execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, HOME: base } });
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      if (out === undefined) throw new Error('Neither setpriv nor runuser is installed: install the Debian package util-linux to run this test as root.');
      result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { code?: string; message?: string };
    }
    expect(result.code).toBe('SOURCE_UNREADABLE');
    expect(result.message).toContain(path.join(root, 'locked'));
  });
});
