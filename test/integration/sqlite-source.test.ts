import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { makeAppDb } from '../support/data.js';
import { useEngines } from '../support/engine.js';
import { gunzipTo, sqlite3, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const engineAt = useEngines();

describe('sqlite source', () => {
  it('captures rows that live only in the -wal file; a plain file copy lacks them', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'live'));
    const live = path.join(root, 'live', 'app.db');
    makeAppDb(live, { rows: 50, wal: true });
    chownSync(live, 1234, 1234); // the application's user, with no name on this machine
    chmodSync(live, 0o664);
    // A writer that never checkpoints, kept open: its last rows exist only in app.db-wal.
    const writer = new Database(live);
    writer.pragma('wal_autocheckpoint = 0');
    writer.pragma('wal_checkpoint(TRUNCATE)');
    const add = writer.prepare('INSERT INTO customers (name, email) VALUES (?, ?)');
    writer.transaction(() => {
      for (let i = 0; i < 500; i++) add.run(`wal-only ${i}`, `w${i}@example.test`);
    })();
    try {
      expect(existsSync(`${live}-wal`)).toBe(true);
      const plain = path.join(root, 'plain-copy.db');
      copyFileSync(live, plain);
      expect(Number(sqlite3(plain, 'SELECT count(*) FROM customers'))).toBe(50);

      const engine = engineAt(path.join(root, 'home'));
      await engine.call('env.save', { environment: { name: 'prod', app: 'lrl', location: path.join(root, 'sets'), sources: [{ kind: 'sqlite', name: 'db', path: live }] } });
      const result = await engine.call('backup.run', { env: 'prod' });
      const restored = path.join(root, 'restored.db');
      gunzipTo(path.join(result.path, 'db.sqlite.gz'), restored);
      expect(Number(sqlite3(restored, 'SELECT count(*) FROM customers'))).toBe(550);
      expect(sqlite3(restored, "SELECT count(*) FROM customers WHERE name LIKE 'wal-only %'")).toBe('500');
      expect(sqlite3(restored, 'PRAGMA integrity_check')).toBe('ok');

      const manifest = JSON.parse(execFileSync('cat', [path.join(result.path, 'manifest.json')], { encoding: 'utf8' }));
      const details = manifest.artifacts[0].details;
      expect(details.tables).toContainEqual({ name: 'customers', rows: 550 });
      expect(details.journalMode).toBe('wal');
      // What a restore gives the database when there is none live (format addition; older sets lack it).
      expect(details.file).toEqual({ mode: 0o664, uid: 1234, gid: 1234 });
      // The live database was only read: the writer's rows are still only in its -wal.
      expect(Number(sqlite3(plain, 'SELECT count(*) FROM customers'))).toBe(50);
    } finally {
      writer.close();
    }
  });

  it.each(['wal', 'delete'])('takes one point in time while another process commits continuously (%s journal)', async (mode) => {
    const root = tempDir();
    mkdirSync(path.join(root, 'live'));
    const live = path.join(root, 'live', 'ledger.db');
    const db = new Database(live);
    db.pragma(`journal_mode = ${mode}`);
    db.exec(`CREATE TABLE transfers (id INTEGER PRIMARY KEY, amount INTEGER, memo TEXT);
             CREATE TABLE entries (id INTEGER PRIMARY KEY, transfer_id INTEGER, amount INTEGER);`);
    const memo = 'x'.repeat(400);
    const t = db.prepare('INSERT INTO transfers (amount, memo) VALUES (?, ?)');
    const e = db.prepare('INSERT INTO entries (transfer_id, amount) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 40_000; i++) {
        const id = Number(t.run(i, memo).lastInsertRowid);
        e.run(id, i);
        e.run(id, -i);
      }
    })();
    db.close();

    // Each commit adds one transfer and its two entries: a copy from one point in time has
    // exactly twice as many entries as transfers, and they sum to zero.
    const script = `
      const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
      const db = new Database(${JSON.stringify(live)});
      db.pragma('busy_timeout = 5000');
      const t = db.prepare('INSERT INTO transfers (amount, memo) VALUES (?, ?)');
      const e = db.prepare('INSERT INTO entries (transfer_id, amount) VALUES (?, ?)');
      const commit = db.transaction((n) => { const id = Number(t.run(n, 'live').lastInsertRowid); e.run(id, n); e.run(id, -n); });
      let n = 0; process.stdout.write('writing\\n');
      for (;;) { commit(++n); if (n % 50 === 0) { const until = Date.now() + 1; while (Date.now() < until); } }`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    try {
      const engine = engineAt(path.join(root, 'home'));
      await engine.call('env.save', { environment: { name: 'prod', app: 'ledger', location: path.join(root, 'sets'), sources: [{ kind: 'sqlite', name: 'db', path: live }] } });
      const result = await engine.call('backup.run', { env: 'prod' });
      const restored = path.join(root, 'restored.db');
      gunzipTo(path.join(result.path, 'db.sqlite.gz'), restored);
      expect(sqlite3(restored, 'PRAGMA integrity_check')).toBe('ok');
      const [transfers, entries, sum] = sqlite3(restored, 'SELECT (SELECT count(*) FROM transfers), (SELECT count(*) FROM entries), (SELECT sum(amount) FROM entries)').split('|').map(Number);
      expect(transfers).toBeGreaterThan(40_000);
      expect(entries).toBe(2 * transfers!);
      expect(sum).toBe(0);
      // The writer went on committing after the snapshot: the copy is one point in a moving history.
      await new Promise((r) => setTimeout(r, 200));
      expect(Number(sqlite3(live, 'SELECT count(*) FROM transfers'))).toBeGreaterThan(transfers!);
      const report = await engine.call('drill.run', { env: 'prod' });
      expect(report.passed).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
