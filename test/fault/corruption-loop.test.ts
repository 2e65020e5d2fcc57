import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, chmodSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine/engine.js';
import { DrillReport } from '../../shared/drill.js';
import type { Manifest } from '../../shared/manifest.js';
import { checksumList, manifestDigest } from '../../electron/engine/manifest.js';
import { makeAppDb } from '../support/data.js';
import { useTempDirs } from '../support/tools.js';

/**
 * The corruption loop: seeded damage to copies of a few sealed sets, each drilled in-process
 * through the engine. Every damage must fail its drill (0 false PASS), every drill must return a
 * report (0 crashes), and untouched copies must pass (0 false FAIL).
 *
 * Re-seals are the damage an operator's "repair" or a buggy copy tool makes: an artifact or the
 * manifest is changed and its checksums recomputed consistently (manifest, SHA256SUMS, digest),
 * so only the content checks can find it. Left out, because no check can catch them and none should:
 *  - a re-sealed RESTORE.txt: the manifest's record is the card's only second record;
 *  - a re-sealed edit of the index's header line (root folder, its mode and owner): the archive
 *    holds no entry for the source folder itself to compare them with;
 *  - an index re-sealed consistently with a rebuilt archive: that is a different, valid set;
 *  - a re-sealed flip in the first 10 bytes of a gzip artifact (its header's time, flags and OS
 *    bytes): gunzip does not read them, so the data is intact;
 *  - whitespace-only changes to manifest.json: its digest is over the canonical body, by design.
 * A re-sealed index is edited field by field rather than flipped at random: a flipped key makes a
 * field unknown, and a format 1 reader drops it as it would a newer Lifeboat's field.
 */
const SEED = Number(process.env.LIFEBOAT_CORRUPTION_SEED ?? 0x5eed_1234);
const DAMAGES = 230;
const CLEAN = 30;

const tempDir = useTempDirs();

/** mulberry32: a small, well-mixed PRNG; the same seed gives the same damages. */
function rng(seed: number): { int: (n: number) => number; pick: <T>(xs: readonly T[]) => T } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { int, pick: (xs) => xs[int(xs.length)]! };
}
type Rng = ReturnType<typeof rng>;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Manifest;

/** Writes a manifest with its digest, SHA256SUMS as the manifest records it. */
function seal(setDir: string, m: Manifest): void {
  m.integrity.digest = manifestDigest(m);
  writeFileSync(path.join(setDir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
  writeFileSync(path.join(setDir, 'SHA256SUMS'), checksumList(m));
}

/** Records an artifact's present bytes everywhere a checksum of it lives. */
function reseal(setDir: string, file: string): void {
  const m = readJson(path.join(setDir, 'manifest.json'));
  const bytes = readFileSync(path.join(setDir, file));
  const a = m.artifacts.find((x) => x.file === file)!;
  a.size = bytes.length;
  a.sha256 = sha(bytes);
  seal(setDir, m);
}

function flip(file: string, r: Rng, from = 0): string {
  const bytes = readFileSync(file);
  const at = from + r.int(bytes.length - from);
  const bit = r.int(8);
  bytes[at] = bytes[at]! ^ (1 << bit);
  writeFileSync(file, bytes);
  return `byte ${at} bit ${bit}`;
}

function truncate(file: string, r: Rng, keepAtMost: number): string {
  const to = r.int(keepAtMost + 1);
  truncateSync(file, to);
  return `to ${to} bytes`;
}

/** Index entries edited one field at a time; each must disagree with the archive. */
function editIndex(setDir: string, file: string, r: Rng): string {
  const lines = readFileSync(path.join(setDir, file), 'utf8').trimEnd().split('\n');
  const i = 1 + r.int(lines.length - 1);
  const e = JSON.parse(lines[i]!) as Record<string, unknown>;
  const edits: [string, () => void][] = [
    ['path', () => (e.path = `${e.path as string}x`)],
    ['mtime', () => (e.mtime = (e.mtime as number) + (r.int(2) ? 1 : -1) * (2 + r.int(10_000_000)))],
    ['mode', () => (e.mode = (e.mode as number) ^ (1 << r.int(12)))],
    ['size', () => (e.size = (e.size as number) + 1 + r.int(100))],
    ['type', () => (e.type = e.type === 'dir' ? 'file' : 'dir')],
    ['delete line', () => lines.splice(i, 1)],
    ['repeat line', () => lines.splice(i, 0, lines[i]!)],
  ];
  if (e.uid !== undefined) edits.push(['uid', () => (e.uid = (e.uid as number) + 1 + r.int(1000))]);
  if (e.gid !== undefined) edits.push(['gid', () => (e.gid = (e.gid as number) + 1 + r.int(1000))]);
  if (e.user !== undefined) edits.push(['user', () => (e.user = `${e.user as string}x`)]);
  if (e.group !== undefined) edits.push(['group', () => (e.group = `${e.group as string}x`)]);
  if (e.type === 'file') edits.push(['sha256', () => (e.sha256 = sha(Buffer.from(String(r.int(1e9)))))]);
  if (e.type === 'symlink') edits.push(['target', () => (e.target = `${e.target as string}x`)]);
  const [name, edit] = r.pick(edits);
  const before = lines.length;
  edit();
  if (lines.length === before && name !== 'repeat line') lines[i] = JSON.stringify(e);
  writeFileSync(path.join(setDir, file), `${lines.join('\n')}\n`);
  reseal(setDir, file);
  return `${name} of line ${i + 1}`;
}

/** A recorded fact changed in the manifest, the digest recomputed: the content must contradict it. */
function editManifest(setDir: string, r: Rng): string {
  const m = readJson(path.join(setDir, 'manifest.json'));
  const edits: [string, () => void][] = [];
  for (const a of m.artifacts) {
    const d = a.details;
    if (d.type === 'sqlite') {
      edits.push([`${a.file} rawSha256`, () => (d.rawSha256 = sha(Buffer.from('other')))], [`${a.file} rawSize`, () => (d.rawSize += 4096)]);
      edits.push([`${a.file} rows`, () => (r.pick(d.tables).rows += 1 + r.int(5))], [`${a.file} table name`, () => (r.pick(d.tables).name += 'x')]);
    }
    if (d.type === 'archive') {
      for (const k of ['fileCount', 'totalBytes', 'dirCount', 'symlinkCount'] as const) edits.push([`${a.file} ${k}`, () => (d[k] += 1 + r.int(3))]);
    }
    if (d.type === 'file-index') edits.push([`${a.file} entries`, () => (d.entries += 1)]);
    if (d.type === 'command-output') edits.push([`${a.file} rawSha256`, () => (d.rawSha256 = sha(Buffer.from('other')))], [`${a.file} rawSize`, () => (d.rawSize += 1)]);
  }
  const [name, edit] = r.pick(edits);
  edit();
  seal(setDir, m);
  return name;
}

type Damage = (setDir: string, r: Rng) => string;

/** Every damage by name; artifacts are chosen from the set at hand. */
function damages(artifacts: string[]): [string, Damage][] {
  const list: [string, Damage][] = [];
  const setFiles = ['manifest.json', 'SHA256SUMS', 'RESTORE.txt', ...artifacts];
  for (const f of setFiles) {
    list.push([`flip ${f}`, (d, r) => flip(path.join(d, f), r)]);
    // A manifest without only its final newline is the same manifest.
    list.push([`truncate ${f}`, (d, r) => truncate(path.join(d, f), r, statSync(path.join(d, f)).size - (f === 'manifest.json' ? 2 : 1))]);
    list.push([`delete ${f}`, (d) => (rmSync(path.join(d, f)), 'deleted')]);
  }
  for (const f of artifacts.filter((a) => a.endsWith('.gz'))) {
    list.push([
      `re-sealed flip ${f}`,
      (d, r) => {
        const at = flip(path.join(d, f), r, 10);
        reseal(d, f);
        return at;
      },
    ]);
    list.push([
      `re-sealed truncate ${f}`,
      (d, r) => {
        const how = truncate(path.join(d, f), r, statSync(path.join(d, f)).size - 1);
        reseal(d, f);
        return how;
      },
    ]);
  }
  for (const f of artifacts.filter((a) => a.endsWith('.files.jsonl'))) list.push([`re-sealed edit ${f}`, (d, r) => editIndex(d, f, r)]);
  list.push(['re-sealed manifest edit', (d, r) => editManifest(d, r)]);
  list.push([
    'extra file',
    (d, r) => {
      const n = `extra-${r.int(1e6)}.bin`;
      writeFileSync(path.join(d, n), 'x');
      return n;
    },
  ]);
  list.push([
    'hidden file',
    (d, r) => {
      const n = r.pick(['.DS_Store', '.hidden', `._${r.pick(artifacts)}`, `.${r.int(1e6)}`]);
      writeFileSync(path.join(d, n), '');
      return n;
    },
  ]);
  list.push([
    'hidden folder',
    (d, r) => {
      const n = r.pick(['.git', '.Trash-0', '.scratch']);
      mkdirSync(path.join(d, n));
      return n;
    },
  ]);
  list.push([
    'artifact replaced by a link to its copy',
    (d, r) => {
      const f = r.pick(artifacts);
      renameSync(path.join(d, f), path.join(d, '..', `${f}.moved`));
      symlinkSync(path.join(d, '..', `${f}.moved`), path.join(d, f));
      return f;
    },
  ]);
  return list;
}

describe('corruption loop', () => {
  let engine: Engine;
  let location: string;
  const bases: { id: string; dir: string; artifacts: string[] }[] = [];

  beforeAll(async () => {
    const root = tempDir();
    const live = path.join(root, 'live');
    const assets = path.join(live, 'assets');
    mkdirSync(path.join(assets, 'docs', 'deeper'), { recursive: true });
    mkdirSync(path.join(assets, 'empty'));
    makeAppDb(path.join(live, 'shop.db'), { rows: 20, wal: true });
    writeFileSync(path.join(assets, 'docs', 'readme.md'), '# Assets\n'.repeat(20));
    writeFileSync(path.join(assets, 'docs', 'deeper', 'note.txt'), 'deep\n');
    writeFileSync(path.join(assets, 'logo.png'), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) & 0xff)));
    chmodSync(path.join(assets, 'docs', 'readme.md'), 0o640);
    symlinkSync('docs/readme.md', path.join(assets, 'readme-link'));
    writeFileSync(path.join(live, 'dump.txt'), 'dictionary dump\n'.repeat(30));
    location = path.join(root, 'sets');
    engine = new Engine(path.join(root, 'home'), 'test');
    await engine.call('env.save', {
      environment: {
        name: 'prod',
        app: 'shop',
        protection: 'normal',
        location,
        sources: [
          { kind: 'sqlite', name: 'db', path: path.join(live, 'shop.db') },
          { kind: 'files', name: 'assets', path: assets },
          { kind: 'command', name: 'dict', dump: { argv: ['cat', path.join(live, 'dump.txt')] }, restore: { argv: ['true'] } },
        ],
      },
    });
    // A few base sets, different in data; kept outside the location and copied in one at a time.
    const store = path.join(root, 'bases');
    mkdirSync(store);
    const made: { id: string; path: string }[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) {
        writeFileSync(path.join(assets, `added-${i}.txt`), `set ${i}\n`);
        writeFileSync(path.join(live, 'dump.txt'), `dictionary dump ${i}\n`.repeat(30 + i));
      }
      made.push(await engine.call('backup.run', { env: 'prod' }));
    }
    // Moved only once all are made: two sets of one second get distinct ids only side by side.
    for (const set of made) {
      const dir = path.join(store, set.id);
      renameSync(set.path, dir);
      bases.push({ id: set.id, dir, artifacts: readJson(path.join(dir, 'manifest.json')).artifacts.map((a) => a.file) });
    }
    return () => engine.close();
  });

  /** Copies a base set into the location, lets `damage` change it, drills it through the engine, removes it. */
  async function drillCopy(base: (typeof bases)[number], damage?: (dir: string) => void): Promise<DrillReport | Error> {
    const dir = path.join(location, base.id);
    cpSync(base.dir, dir, { recursive: true });
    try {
      damage?.(dir);
      return DrillReport.parse(await engine.call('drill.run', { env: 'prod', set: base.id }));
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      for (const n of readdirSync(location)) if (n.endsWith('.moved')) rmSync(path.join(location, n));
    }
  }

  it(`fails every one of ${DAMAGES} seeded damages and passes ${CLEAN} clean copies (seed ${SEED})`, async () => {
    const r = rng(SEED);
    const falsePass: string[] = [];
    const crashes: string[] = [];
    const tally = new Map<string, number>();
    for (let n = 0; n < DAMAGES; n++) {
      const base = r.pick(bases);
      // Cycle through the kinds so that every one is met; the details (where, which bit) are random.
      const all = damages(base.artifacts);
      const [kind, damage] = all[n % all.length]!;
      let detail = '';
      const got = await drillCopy(base, (dir) => (detail = damage(dir, r)));
      const label = `#${n} ${kind} (${detail}) of ${base.id}, seed ${SEED}`;
      tally.set(kind.split(' ')[0]!, (tally.get(kind.split(' ')[0]!) ?? 0) + 1);
      if (got instanceof Error) crashes.push(`${label}: ${got.message}`);
      else if (got.passed) falsePass.push(label);
    }
    const falseFail: string[] = [];
    for (let n = 0; n < CLEAN; n++) {
      const base = bases[n % bases.length]!;
      const got = await drillCopy(base);
      if (got instanceof Error) crashes.push(`clean #${n} of ${base.id}, seed ${SEED}: ${got.message}`);
      else if (!got.passed)
        falseFail.push(
          `clean #${n} of ${base.id}: ${got.checks
            .filter((c) => c.status !== 'PASS')
            .map((c) => `${c.target}: ${c.name}: ${c.reason}`)
            .join('; ')}`,
        );
    }
    expect({ falsePass, crashes, falseFail }, `seed ${SEED}`).toEqual({ falsePass: [], crashes: [], falseFail: [] });
    expect([...tally.values()].reduce((a, b) => a + b, 0)).toBe(DAMAGES);
    expect(existsSync(path.join(location, '..', 'home', 'scratch')) ? readdirSync(path.join(location, '..', 'home', 'scratch')) : []).toEqual([]);
  });
});
