import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { filesPlugin } from '../../electron/engine/sources/files/files.js';
import { filesRestore } from '../../electron/engine/sources/files/files-restore.js';
import { ProgressMeter } from '../../electron/engine/progress.js';
import { FilesSource } from '../../shared/environment.js';
import { Artifact } from '../../shared/manifest.js';
import { DrillCheck } from '../../shared/drill.js';
import { InUse, SourcePreview } from '../../shared/restore.js';
import { sha256sum, useTempDirs, failure } from '../support/tools.js';
import { artifactReader, artifactWriter } from '../../electron/engine/codec/index.js';
import { folderArtifacts } from '../../electron/engine/store/artifact-files.js';

const tempDir = useTempDirs();
const meter = () => new ProgressMeter({ operation: 'restore', env: 't' }, { bytes: 0, files: 0 }, undefined);
const signal = () => new AbortController().signal;
const source = (p: string, globs: { include?: string[]; exclude?: string[] } = {}) => FilesSource.parse({ kind: 'files', name: 'assets', path: p, ...globs });
const MTIME = new Date('2023-11-14T22:13:20.123Z');
/** The tests run as root: what they create is root's. */
const rootOwner = { uid: 0, gid: 0, user: 'root', group: 'root' };

async function capture(base: string, src: FilesSource) {
  const setDir = await fs.mkdtemp(path.join(base, 'set-'));
  const scratch = await fs.mkdtemp(path.join(base, 'scratch-'));
  const artifacts = (await filesPlugin.capture({ source: src, writer: artifactWriter(folderArtifacts(setDir)), scratch, signal: signal(), progress: meter() })).map((a) => Artifact.parse(a));
  return { setDir, artifacts };
}

/** The restore context for `target`, from a captured set. */
const ctxOf = (src: FilesSource, set: { setDir: string; artifacts: Artifact[] }, target: string, progress = meter(), sig = signal()) => ({
  source: src,
  artifacts: set.artifacts,
  reader: artifactReader(folderArtifacts(set.setDir)),
  target,
  signal: sig,
  progress,
});

const exists = (p: string) =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );
const failed = (checks: DrillCheck[]) => checks.filter((c) => c.status !== 'PASS');

/** Paths (folders with a trailing '/') → [mode, mtime in ms], with links' targets and files' hashes. */
async function snapshot(root: string): Promise<Map<string, { mode: number; mtime: number; sha?: string; link?: string }>> {
  const out = new Map<string, { mode: number; mtime: number; sha?: string; link?: string }>();
  async function visit(rel: string): Promise<void> {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const at = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, at);
      const st = await fs.lstat(abs);
      const base = { mode: st.mode & 0o7777, mtime: Math.round(st.mtimeMs) };
      if (st.isDirectory()) {
        out.set(`${at}/`, base);
        await visit(at);
      } else if (st.isSymbolicLink()) out.set(at, { ...base, mode: 0, link: await fs.readlink(abs) });
      else out.set(at, { ...base, sha: sha256sum(abs) });
    }
  }
  await visit('');
  return out;
}

async function fixture(base: string): Promise<string> {
  const root = path.join(base, 'assets');
  await fs.mkdir(path.join(root, 'docs/nested/deeper'), { recursive: true });
  await fs.mkdir(path.join(root, 'empty'));
  await fs.writeFile(path.join(root, 'a.txt'), 'alpha\n');
  await fs.writeFile(path.join(root, 'b.txt'), 'bravo\n');
  await fs.writeFile(path.join(root, 'blob.bin'), randomBytes(256 * 1024));
  await fs.writeFile(path.join(root, 'docs/readme.txt'), 'hello, lifeboat\n');
  await fs.writeFile(path.join(root, 'docs/nested/deeper/note.md'), '# deep\n');
  await fs.symlink('docs/readme.txt', path.join(root, 'link-inside'));
  await fs.symlink('/etc/hostname', path.join(root, 'link-outside'));
  await fs.chmod(path.join(root, 'docs/readme.txt'), 0o640);
  await fs.chmod(path.join(root, 'docs'), 0o750);
  for (const p of ['docs/readme.txt', 'docs/nested/deeper', 'empty', 'docs']) await fs.utimes(path.join(root, p), MTIME, MTIME);
  await fs.lutimes(path.join(root, 'link-outside'), MTIME, MTIME);
  return root;
}

describe('files restore: preview', () => {
  it('counts added, removed, changed, unchanged and kept entries against the live folder', async () => {
    const base = tempDir();
    const root = await fixture(base);
    const src = source(root, { exclude: ['*.log'] });
    const set = await capture(base, src);
    await fs.writeFile(path.join(root, 'new.txt'), 'new file\n'); // live only: the restore removes it
    await fs.rm(path.join(root, 'a.txt')); // in the set only: added back
    await fs.writeFile(path.join(root, 'docs/readme.txt'), 'HELLO, LIFEBOAT\n'); // same size, other bytes
    await fs.writeFile(path.join(root, 'b.txt'), 'bravo, longer\n'); // another size
    await fs.chmod(path.join(root, 'b.txt'), 0o600); // another mode: the live one is kept
    await fs.rm(path.join(root, 'link-inside'));
    await fs.symlink('b.txt', path.join(root, 'link-inside')); // another target
    await fs.writeFile(path.join(root, 'debug.log'), 'excluded\n'); // the globs do not take it: kept

    const p = SourcePreview.parse(await filesRestore.preview(ctxOf(src, set, root)));
    expect(p).toEqual({
      type: 'files',
      source: 'assets',
      target: root,
      targetExists: true,
      added: { count: 1, bytes: 6 },
      removed: { count: 1, bytes: 9 },
      changed: { count: 3, bytes: 6 + 16 },
      unchanged: 11 - 1 - 3,
      kept: 1,
      samples: {
        added: [{ path: 'a.txt', now: null, inSet: 6 }],
        removed: [{ path: 'new.txt', now: 9, inSet: null }],
        changed: [
          { path: 'b.txt', now: 14, inSet: 6 },
          { path: 'docs/readme.txt', now: 16, inSet: 16 },
          { path: 'link-inside', now: 0, inSet: 0 },
        ],
      },
      ownership: {
        count: 1,
        notKept: 0,
        samples: [
          {
            path: path.join(root, 'b.txt'),
            now: { ...rootOwner, mode: 0o600 },
            inSet: { ...rootOwner, mode: 0o644 },
            after: { ...rootOwner, mode: 0o600 },
            ownerKept: true,
            why: 'the live owner and mode are kept, not the ones the set records',
          },
        ],
      },
    });

    const missing = SourcePreview.parse(await filesRestore.preview(ctxOf(src, set, path.join(base, 'nowhere'))));
    const totalBytes = set.artifacts[0]?.details.type === 'archive' ? set.artifacts[0].details.totalBytes : -1;
    expect(missing).toMatchObject({ targetExists: false, added: { count: 11, bytes: totalBytes }, removed: { count: 0, bytes: 0 }, changed: { count: 0, bytes: 0 }, unchanged: 0, kept: 0 });
    expect(missing.type === 'files' && missing.samples.added.map((s) => s.path)).toEqual([
      'a.txt',
      'b.txt',
      'blob.bin',
      'docs',
      'docs/nested',
      'docs/nested/deeper',
      'docs/nested/deeper/note.md',
      'docs/readme.txt',
      'empty',
      'link-inside',
      'link-outside',
    ]);
  });
});

describe('files restore: stage and verify', () => {
  it('stages byte-identical files with modes, times, empty folders and links, and keeps excluded live files', async () => {
    const base = tempDir();
    const root = await fixture(base);
    const src = source(root, { exclude: ['*.log'] });
    const original = await snapshot(root);
    const set = await capture(base, src);
    await fs.rm(path.join(root, 'a.txt'));
    await fs.writeFile(path.join(root, 'docs/readme.txt'), 'HELLO, LIFEBOAT\n');
    await fs.writeFile(path.join(root, 'new.txt'), 'new file\n');
    await fs.writeFile(path.join(root, 'debug.log'), 'excluded\n');
    await fs.chmod(root, 0o751);

    const staged = path.join(base, '.assets.staged');
    const progress = meter();
    const checks = (await filesRestore.stage({ ...ctxOf(src, set, root, progress), staged })).checks.map((c) => DrillCheck.parse(c));
    expect(failed(checks)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'extracts safely',
      'entries match the index',
      "every file's SHA-256 matches the index",
      'links as recorded',
      'live entries the globs do not take kept',
      'owners, modes and times applied',
    ]);
    expect(checks[4]?.reason).toContain('1 file (1 hard-linked, 0 copied), 0 folders and 0 links');
    expect(progress.filesDone).toBe(5);

    const got = await snapshot(staged);
    const log = got.get('debug.log');
    got.delete('debug.log');
    expect(got).toEqual(original); // every file's SHA-256, mode and mtime (ms), folders, links
    expect(got.get('empty/')).toEqual({ mode: original.get('empty/')?.mode, mtime: MTIME.getTime() });
    expect(got.get('docs/')?.mode).toBe(0o750);
    expect(got.get('link-outside')?.link).toBe('/etc/hostname');
    expect(got.get('link-inside')?.link).toBe('docs/readme.txt');
    expect(await fs.readdir(path.join(staged, 'empty'))).toEqual([]);
    expect(log?.sha).toBe(sha256sum(path.join(root, 'debug.log')));
    expect((await fs.stat(path.join(staged, 'debug.log'))).ino).toBe((await fs.stat(path.join(root, 'debug.log'))).ino);
    expect((await fs.stat(staged)).mode & 0o7777).toBe(0o751);
    expect(await exists(path.join(staged, 'new.txt'))).toBe(false);
    expect(await exists(path.join(root, 'new.txt'))).toBe(true); // the live folder is only read
  });

  it('keeps the files beside a FAISS index pair, and verify names a changed byte after the swap', async () => {
    const base = tempDir();
    const root = path.join(base, 'faiss');
    await fs.mkdir(path.join(root, 'cache'), { recursive: true });
    await fs.writeFile(path.join(root, 'a.index'), randomBytes(64 * 1024));
    await fs.writeFile(path.join(root, 'a.meta.json'), '{"dim":768}\n');
    await fs.writeFile(path.join(root, 'notes.txt'), 'notes before\n');
    await fs.writeFile(path.join(root, 'cache/x.bin'), randomBytes(4096));
    const src = source(root, { include: ['*.index', '*.meta.json'] });
    const pair = { index: sha256sum(path.join(root, 'a.index')), meta: sha256sum(path.join(root, 'a.meta.json')) };
    const set = await capture(base, src);
    await fs.writeFile(path.join(root, 'a.index'), randomBytes(64 * 1024)); // the index the restore replaces
    await fs.writeFile(path.join(root, 'b.index'), 'newer\n'); // taken by the globs, not in the set: goes
    await fs.writeFile(path.join(root, 'notes.txt'), 'notes written after the backup\n');
    await fs.chmod(path.join(root, 'cache'), 0o710);
    await fs.utimes(path.join(root, 'cache'), MTIME, MTIME);
    const cache = sha256sum(path.join(root, 'cache/x.bin'));

    const p = SourcePreview.parse(await filesRestore.preview(ctxOf(src, set, root)));
    expect(p).toMatchObject({ added: { count: 0 }, removed: { count: 1, bytes: 6 }, changed: { count: 1, bytes: 64 * 1024 }, unchanged: 1, kept: 3 });

    const staged = path.join(base, '.faiss.staged');
    const { checks: stagedChecks, owners } = await filesRestore.stage({ ...ctxOf(src, set, root), staged });
    expect(failed(stagedChecks)).toEqual([]);
    expect((await fs.readdir(staged)).sort()).toEqual(['a.index', 'a.meta.json', 'cache', 'notes.txt']);
    expect(sha256sum(path.join(staged, 'a.index'))).toBe(pair.index);
    expect(sha256sum(path.join(staged, 'a.meta.json'))).toBe(pair.meta);
    expect(await fs.readFile(path.join(staged, 'notes.txt'), 'utf8')).toBe('notes written after the backup\n');
    expect(sha256sum(path.join(staged, 'cache/x.bin'))).toBe(cache);
    const cacheDir = await fs.stat(path.join(staged, 'cache'));
    expect([cacheDir.mode & 0o7777, Math.round(cacheDir.mtimeMs)]).toEqual([0o710, MTIME.getTime()]);

    await fs.rename(root, path.join(base, 'faiss.before'));
    await fs.rename(staged, root);
    const checks = (await filesRestore.verify({ ...ctxOf(src, set, root), owners })).map((c) => DrillCheck.parse(c));
    expect(failed(checks)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual(['index parses', 'target read', 'entries match the index', "every file's SHA-256 matches the index", 'links as recorded', 'owners and modes kept']);
    // A mode changed after the swap is named: the data is not as the restore left it.
    await fs.chmod(path.join(root, 'a.meta.json'), 0o600);
    const moved = failed(await filesRestore.verify({ ...ctxOf(src, set, root), owners }));
    expect(moved.map((c) => [c.name, c.status])).toEqual([['owners and modes kept', 'FAIL']]);
    expect(moved[0]?.reason).toContain(`${path.join(root, 'a.meta.json')} (root:root (0:0) 0600, restored as root:root (0:0) 0644)`);

    const fh = await fs.open(path.join(root, 'a.index'), 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, 1000);
    await fh.close();
    await fs.writeFile(path.join(root, 'b.index'), 'extra\n');
    await fs.writeFile(path.join(root, 'notes.txt'), 'not taken by the globs, so not compared\n');
    const bad = failed(await filesRestore.verify(ctxOf(src, set, root)));
    expect(bad.map((c) => c.name)).toEqual(['entries match the index', "every file's SHA-256 matches the index"]);
    expect(bad[0]?.reason).toContain('b.index');
    expect(bad[1]?.reason).toContain('a.index');
    expect(bad[1]?.reason).not.toContain('notes.txt');
  });

  it('removes the staging folder on a mismatch, on cancel, and leaves a path it did not make alone', async () => {
    const base = tempDir();
    const root = await fixture(base);
    await fs.writeFile(path.join(root, 'big.bin'), randomBytes(16 << 20));
    const src = source(root);
    const set = await capture(base, src);
    const staged = path.join(base, '.assets.staged');

    // An index that disagrees with the archive about one file: the proof names it.
    const forged = await fs.mkdtemp(path.join(base, 'forged-'));
    await fs.copyFile(path.join(set.setDir, 'assets.tar.gz'), path.join(forged, 'assets.tar.gz'));
    const lines = (await fs.readFile(path.join(set.setDir, 'assets.files.jsonl'), 'utf8')).split('\n');
    const i = lines.findIndex((l) => l.includes('"docs/readme.txt"'));
    lines[i] = lines[i]!.replace(/"sha256":"[0-9a-f]{64}"/, `"sha256":"${'0'.repeat(64)}"`);
    await fs.writeFile(path.join(forged, 'assets.files.jsonl'), lines.join('\n'));
    // Described by its own bytes, as the drill before a restore would have passed them.
    const index = await fs.readFile(path.join(forged, 'assets.files.jsonl'));
    const artifacts = set.artifacts.map((a) => (a.file === 'assets.files.jsonl' ? { ...a, size: index.length, sha256: createHash('sha256').update(index).digest('hex') } : a));
    const mismatch = await failure(filesRestore.stage({ ...ctxOf(src, { setDir: forged, artifacts }, root), staged }));
    expect(mismatch.code).toBe('STAGE_FAILED');
    expect(mismatch.message).toContain('docs/readme.txt');
    expect(await exists(staged)).toBe(false);

    const controller = new AbortController();
    const progress = new (class extends ProgressMeter {
      override addBytes(n: number): void {
        super.addBytes(n);
        if (this.bytesDone > 1 << 20) controller.abort();
      }
    })({ operation: 'restore', env: 't' }, { bytes: 0, files: 0 }, undefined);
    const cancelled = await failure(filesRestore.stage({ ...ctxOf(src, set, root, progress, controller.signal), staged }));
    expect(cancelled.code).toBe('CANCELLED');
    expect(progress.bytesDone).toBeLessThan(16 << 20);
    expect(await exists(staged)).toBe(false);

    await fs.mkdir(staged);
    await fs.writeFile(path.join(staged, 'mine.txt'), "not the restore's\n");
    await failure(filesRestore.stage({ ...ctxOf(src, set, root), staged }));
    expect(await fs.readdir(staged)).toEqual(['mine.txt']);
  });
});

describe('files restore: in use', () => {
  it('names a process with a file open under the folder, and says free once it exits', async () => {
    const base = tempDir();
    const root = path.join(base, 'assets');
    await fs.mkdir(path.join(root, 'sub'), { recursive: true });
    await fs.writeFile(path.join(root, 'sub/held.txt'), 'held\n');
    const src = source(root);
    expect(InUse.parse(await filesRestore.inUse(src, path.join(base, 'nowhere')))).toEqual({ status: 'free', how: 'there is no folder at the target yet' });

    const child = spawn(process.execPath, ['-e', 'require("fs").openSync(process.argv[1], "r"); console.log("open"); setInterval(() => {}, 1000)', path.join(root, 'sub/held.txt')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await once(child.stdout, 'data');
      const busy = InUse.parse(await filesRestore.inUse(src, root));
      expect(busy.status).toBe('busy');
      expect(busy.status === 'busy' && busy.holders.join('\n')).toContain(`(pid ${child.pid}): ${path.join(root, 'sub/held.txt')}`);
    } finally {
      child.kill();
    }
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    const free = InUse.parse(await filesRestore.inUse(src, root));
    expect(free.status).toBe('free');
    expect(free.status === 'free' && free.how).toContain(root);
  });
});
