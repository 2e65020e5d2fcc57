import Database from 'better-sqlite3';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';

/** A small application database: customers, orders referencing them, and a ledger whose sum is zero. */
export function makeAppDb(file: string, opts: { rows?: number; wal?: boolean } = {}): void {
  const rows = opts.rows ?? 200;
  const db = new Database(file);
  if (opts.wal) db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
           CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total_cents INTEGER, note TEXT);
           CREATE TABLE ledger (id INTEGER PRIMARY KEY, account TEXT, amount INTEGER);
           CREATE INDEX orders_customer ON orders(customer_id);`);
  const addCustomer = db.prepare('INSERT INTO customers (name, email) VALUES (?, ?)');
  const addOrder = db.prepare('INSERT INTO orders (customer_id, total_cents, note) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= rows; i++) {
      addCustomer.run(`Customer ${i}`, `c${i}@example.test`);
      addOrder.run(i, i * 100, `order for customer ${i} — ünïcode ✓`);
    }
  })();
  db.close();
}

/** An assets folder with nested files, text and incompressible bytes. */
export function makeAssets(dir: string): void {
  mkdirSync(path.join(dir, 'images', '2026'), { recursive: true });
  mkdirSync(path.join(dir, 'docs'), { recursive: true });
  writeFileSync(path.join(dir, 'docs', 'readme.md'), '# Assets\n'.repeat(200));
  writeFileSync(path.join(dir, 'images', '2026', 'photo.jpg'), randomBytes(300_000));
  writeFileSync(path.join(dir, 'images', 'logo.png'), randomBytes(20_000));
  writeFileSync(path.join(dir, 'notes.txt'), 'remember the milk\n');
}

/** The live data of the demo environment (`demoEnvironment(root)`): `root/live/shop.db` and `root/live/assets`. */
export function makeLiveData(root: string, opts: { rows?: number } = {}): void {
  mkdirSync(path.join(root, 'live'), { recursive: true });
  makeAppDb(path.join(root, 'live', 'shop.db'), opts);
  makeAssets(path.join(root, 'live', 'assets'));
}

/**
 * A fingerprint of a folder tree an operator would accept as "the same": every path with its
 * type, size, mode, SHA-256 or link target.
 */
export function treeFingerprint(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const p = path.join(rel, name);
      const st = lstatSync(path.join(dir, p));
      if (st.isSymbolicLink()) out.push(`L ${p} -> ${readlinkSync(path.join(dir, p))}`);
      else if (st.isDirectory()) {
        out.push(`D ${p} ${(st.mode & 0o7777).toString(8)}`);
        walk(p);
      } else
        out.push(
          `F ${p} ${st.size} ${(st.mode & 0o7777).toString(8)} ${createHash('sha256')
            .update(readFileSync(path.join(dir, p)))
            .digest('hex')}`,
        );
    }
  };
  walk('');
  return out;
}

/** SHA-256 of a file's bytes. */
export function fileSha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
