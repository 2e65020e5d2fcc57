import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
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
