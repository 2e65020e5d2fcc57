// Generates the benchmark's data at a chosen scale: a WAL-mode SQLite database, an assets folder
// and a FAISS-like vector pair. Text comes from a seeded PRNG so runs are reproducible; every file
// is written in bounded chunks, so memory does not grow with the scale.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Prng } from '../support/prng.js';

export { Prng };

const MB = 1024 * 1024;
const CHUNK = 1 * MB;

/** Where the generated data lives and how many bytes each part holds. */
export interface Dataset {
  root: string;
  dbPath: string;
  assetsDir: string;
  faissDir: string;
  bytes: { db: number; assets: number; faiss: number; total: number };
  files: { assets: number };
}

const WORDS = (
  'the of and to in is that it was for on are as with his they at be this from have or by one had not ' +
  'but what all were when we there can an your which their said if do will each about how up out them ' +
  'then she many some so these would other into has more her two like him see time could no make than ' +
  'first been its who now people my made over did down only way find use may water long little very ' +
  'after words called just where most know get through back much before go good new write our used me ' +
  'man too any day same right look think also around another came come work three word must because does ' +
  'part even place well such here take why things help put years different away again off went old number ' +
  'backup restore archive snapshot database record ledger invoice customer order shipment warehouse ' +
  'account balance report quarter revenue budget forecast meeting project milestone release feature ' +
  'server network latency storage volume replica cluster schedule retention policy integrity checksum ' +
  'document chapter section paragraph summary appendix reference citation author editor review draft'
).split(' ');
const WORD_BUFS = WORDS.map((w) => Buffer.from(w + ' '));

/** Fills `buf` with prose-like text (Zipf-ish word choice, sentences, paragraphs); returns bytes used. */
export function fillProse(rng: Prng, buf: Buffer): number {
  let at = 0;
  let inSentence = 0;
  while (at < buf.length - 24) {
    const r = rng.next();
    const w = WORD_BUFS[Math.floor(r * r * WORD_BUFS.length)] as Buffer;
    at += w.copy(buf, at);
    if (++inSentence > 6 && rng.next() < 0.12) {
      buf[at - 1] = 0x2e; // '.'
      buf[at++] = rng.next() < 0.15 ? 0x0a : 0x20;
      inSentence = 0;
    }
  }
  buf.fill(0x20, at);
  return buf.length;
}

/** Prose of roughly `n` bytes as a string. */
function prose(rng: Prng, n: number): string {
  const b = Buffer.allocUnsafe(Math.max(n, 32));
  fillProse(rng, b);
  return b.toString('latin1').trimEnd();
}

/** Writes `size` bytes to `file` in chunks produced by `fill`. */
function writeChunked(file: string, size: number, fill: (chunk: Buffer) => Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size));
    for (let left = size; left > 0;) {
      const part = fill(chunk.subarray(0, Math.min(left, chunk.length)));
      fs.writeSync(fd, part);
      left -= part.length;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Creates the WAL-mode database with users, documents and events until it holds about `target` bytes. */
function makeDatabase(file: string, target: number, rng: Prng): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(`
    CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
      created_at TEXT NOT NULL, bio TEXT);
    CREATE TABLE documents (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES users(id),
      title TEXT NOT NULL, body TEXT NOT NULL, tags TEXT, updated_at TEXT NOT NULL);
    CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, kind TEXT NOT NULL,
      at INTEGER NOT NULL, payload TEXT NOT NULL);
    CREATE INDEX documents_owner ON documents(owner_id, updated_at);
    CREATE INDEX events_user_at ON events(user_id, at);`);
  const users = Math.max(100, Math.round(target / (40 * 1024)));
  const day = (i: number): string => new Date(Date.UTC(2020, 0, 1) + i * 3_600_000).toISOString();
  const addUser = db.prepare('INSERT INTO users (id, email, name, created_at, bio) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= users; i++) {
      const name = `${rng.pick(WORDS)} ${rng.pick(WORDS)}`;
      addUser.run(i, `user${i}@example.test`, name, day(i), prose(rng, rng.int(40, 400)));
    }
  })();
  const addDoc = db.prepare('INSERT INTO documents (owner_id, title, body, tags, updated_at) VALUES (?, ?, ?, ?, ?)');
  const addEvent = db.prepare('INSERT INTO events (user_id, kind, at, payload) VALUES (?, ?, ?, ?)');
  const kinds = ['login', 'view', 'edit', 'share', 'export', 'comment'] as const;
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const size = (): number => Number(db.pragma('page_count', { simple: true })) * pageSize;
  const batch = db.transaction((n: number) => {
    for (let i = 0; i < n; i++) {
      const owner = rng.int(1, users);
      const tags = JSON.stringify([rng.pick(WORDS), rng.pick(WORDS)]);
      addDoc.run(owner, prose(rng, rng.int(20, 80)), prose(rng, rng.logInt(500, 40_000)), tags, day(i));
      for (let e = rng.int(2, 8); e > 0; e--) {
        const kind = rng.pick(kinds);
        const payload = {
          doc: i,
          kind,
          ip: `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
          agent: 'Mozilla/5.0 (X11; Linux x86_64)',
          note: prose(rng, rng.int(16, 120)),
          ok: rng.next() < 0.97,
        };
        addEvent.run(owner, kind, 1_600_000_000 + i * 37 + e, JSON.stringify(payload));
      }
    }
  });
  while (size() < target) batch(200);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return fs.statSync(file).size;
}

const TEXT_KINDS = [
  { dir: 'docs', ext: 'md' },
  { dir: 'docs/guides', ext: 'md' },
  { dir: 'notes', ext: 'txt' },
  { dir: 'exports/json', ext: 'jsonl' },
  { dir: 'exports/csv', ext: 'csv' },
  { dir: 'site/pages', ext: 'html' },
] as const;
const BIN_KINDS = [
  { dir: 'images/2023', ext: 'jpg' },
  { dir: 'images/2024', ext: 'png' },
  { dir: 'uploads/a/b', ext: 'webp' },
  { dir: 'media', ext: 'mp4' },
  { dir: 'uploads/pdf', ext: 'pdf' },
] as const;

/** Text chunk filler for a file kind: prose, or prose wrapped as JSON lines / CSV rows. */
function textFill(rng: Prng, ext: string): (b: Buffer) => Buffer {
  if (ext === 'md' || ext === 'txt' || ext === 'html') return (b) => (fillProse(rng, b), b);
  return (b) => {
    let at = 0;
    while (at < b.length) {
      const line =
        ext === 'jsonl'
          ? JSON.stringify({ id: rng.int(1, 1e6), title: prose(rng, 30), score: rng.next() }) + '\n'
          : `${rng.int(1, 1e6)},${rng.pick(WORDS)},${rng.next().toFixed(6)},"${prose(rng, 40)}"\n`;
      at += b.write(line, at, 'latin1');
    }
    return b;
  };
}

/** Fills the assets folder with about `target` bytes: many small files and a few large ones, half text. */
function makeAssets(dir: string, target: number, rng: Prng): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const smallBudget = target * 0.1;
  while (bytes < target) {
    const small = bytes < smallBudget;
    const size = Math.min(small ? rng.logInt(1024, 64 * 1024) : rng.logInt(64 * 1024, 40 * MB), target - bytes + 1024);
    const text = rng.next() < 0.5;
    const kind = text ? rng.pick(TEXT_KINDS) : rng.pick(BIN_KINDS);
    const file = path.join(dir, kind.dir, `${kind.dir.split('/')[0]}-${String(files).padStart(5, '0')}.${kind.ext}`);
    writeChunked(file, size, text ? textFill(rng, kind.ext) : (b) => randomBytes(b.length));
    bytes += size;
    files++;
  }
  return { bytes, files };
}

/** Writes `vectors.index` (header + float32 vectors) and `vectors.meta.json` (one entry per vector). */
function makeFaiss(dir: string, target: number, rng: Prng): number {
  const dim = 384;
  const count = Math.max(16, Math.floor(target / (dim * 4)));
  const header = Buffer.alloc(16);
  header.write('IxFl', 0, 'latin1');
  header.writeUInt32LE(dim, 4);
  header.writeBigUInt64LE(BigInt(count), 8);
  let first = true;
  writeChunked(path.join(dir, 'vectors.index'), 16 + count * dim * 4, (b) => {
    if (first) return ((first = false), header);
    const floats = new Float32Array(b.buffer, b.byteOffset, b.length >> 2);
    for (let i = 0; i < floats.length; i++) floats[i] = (rng.next() - 0.5) * 0.2;
    return b.subarray(0, floats.length * 4);
  });
  const meta = fs.openSync(path.join(dir, 'vectors.meta.json'), 'w');
  fs.writeSync(meta, `{"dim":${dim},"metric":"cosine","count":${count},"ids":[`);
  for (let i = 0; i < count; i += 4096) {
    const part: string[] = [];
    for (let j = i; j < Math.min(count, i + 4096); j++) part.push(JSON.stringify({ v: j, doc: rng.int(1, 1e6), chunk: rng.int(0, 40) }));
    fs.writeSync(meta, (i ? ',' : '') + part.join(','));
  }
  fs.writeSync(meta, ']}\n');
  fs.closeSync(meta);
  return fs.statSync(path.join(dir, 'vectors.index')).size + fs.statSync(path.join(dir, 'vectors.meta.json')).size;
}

/** Generates the whole dataset (≈ scaleGb GiB: 35% database, 55% assets, 10% vectors) under `root`. */
export function generateDataset(root: string, scaleGb: number, seed = 20240601): Dataset {
  const total = Math.floor(scaleGb * 1024 * MB);
  const ds: Dataset = {
    root,
    dbPath: path.join(root, 'db', 'app.sqlite'),
    assetsDir: path.join(root, 'assets'),
    faissDir: path.join(root, 'faiss'),
    bytes: { db: 0, assets: 0, faiss: 0, total: 0 },
    files: { assets: 0 },
  };
  for (const d of [path.dirname(ds.dbPath), ds.assetsDir, ds.faissDir]) fs.mkdirSync(d, { recursive: true });
  ds.bytes.db = makeDatabase(ds.dbPath, Math.floor(total * 0.35), new Prng(seed));
  const assets = makeAssets(ds.assetsDir, Math.floor(total * 0.55), new Prng(seed + 1));
  ds.bytes.assets = assets.bytes;
  ds.files.assets = assets.files;
  ds.bytes.faiss = makeFaiss(ds.faissDir, Math.floor(total * 0.1), new Prng(seed + 2));
  ds.bytes.total = ds.bytes.db + ds.bytes.assets + ds.bytes.faiss;
  return ds;
}
