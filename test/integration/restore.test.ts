import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RestorePreview, RestoreResult } from '../../shared/restore.js';
import { fileSha, makeAppDb, makeAssets, treeFingerprint } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { jsonOf, runCli, sqlite3, useTempDirs, writeEnvFile } from '../support/tools.js';

const tempDir = useTempDirs();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function setup(protection: 'normal' | 'protected' = 'protected') {
  const root = tempDir();
  const live = path.join(root, 'live');
  mkdirSync(path.join(live, 'assets'), { recursive: true });
  makeAppDb(path.join(live, 'shop.db'), { rows: 300, wal: true });
  makeAssets(path.join(live, 'assets'));
  const home = path.join(root, 'home');
  expect((await runCli(['env', 'import', writeEnvFile(root, demoEnvironment(root, { protection }))], home)).code).toBe(0);
  const backup = await runCli(['backup', '--env', 'prod', '--json'], home);
  expect(backup.code, backup.stderr).toBe(0);
  const set = jsonOf<{ id: string; path: string }>(backup);
  return { root, home, live, db: path.join(live, 'shop.db'), assets: path.join(live, 'assets'), set };
}

/** What an operator compares: every row of every table, and every file of the folder. */
function state(db: string, assets: string) {
  return { rows: sqlite3(db, '.dump'), files: treeFingerprint(assets) };
}

/** Changes the live data the way a bad day would: rows added and removed, files added, removed, changed. */
function damage(db: string, assets: string): void {
  const conn = new Database(db);
  conn.exec("INSERT INTO customers (name, email) VALUES ('Mallory', 'm@example.test'); DELETE FROM orders WHERE id <= 10; DROP INDEX orders_customer; CREATE TABLE junk (x);");
  conn.close();
  writeFileSync(path.join(assets, 'new-upload.txt'), 'added after the backup');
  rmSync(path.join(assets, 'notes.txt'));
  const doc = path.join(assets, 'docs', 'readme.md');
  writeFileSync(doc, readFileSync(doc, 'utf8').replace('# Assets', '# ASSETS'));
  appendFileSync(path.join(assets, 'images', 'logo.png'), 'more bytes');
}

/** A process that keeps `file` open, as a running application would. */
function holdOpen(file: string, asDatabase: boolean): Promise<ChildProcess> {
  const script = asDatabase
    ? `const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))}); const db = new D(${JSON.stringify(file)}); db.prepare('SELECT 1').get(); console.log('open'); setInterval(() => {}, 1000);`
    : `const fd = require('fs').openSync(${JSON.stringify(file)}, 'r'); console.log('open'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve) => child.stdout!.once('data', () => resolve(child)));
}

describe('restore', () => {
  it('round trip: the preview names exactly the changes, and the live data comes back row for row and byte for byte', async () => {
    const { home, db, assets, set } = await setup();
    const before = state(db, assets);
    damage(db, assets);

    const dry = await runCli(['restore', '--env', 'prod', '--set', set.id, '--dry-run', '--json'], home);
    expect(dry.code, dry.stderr).toBe(0);
    const preview = jsonOf<RestorePreview>(dry);
    expect(preview.ready).toBe(true);
    expect(preview.needsConfirmation).toBe(true);
    const tables = preview.sources.find((s) => s.type === 'tables');
    expect(tables?.type === 'tables' && tables.tables).toEqual([
      { name: 'customers', now: 301, inSet: 300 },
      { name: 'junk', now: 0, inSet: null },
      { name: 'ledger', now: 0, inSet: 0 },
      { name: 'orders', now: 290, inSet: 300 },
    ]);
    const files = preview.sources.find((s) => s.type === 'files');
    if (files?.type !== 'files') throw new Error('no files preview');
    expect(files.samples.added.map((f) => f.path)).toEqual(['notes.txt']);
    expect(files.samples.removed.map((f) => f.path)).toEqual(['new-upload.txt']);
    expect(files.samples.changed.map((f) => f.path)).toEqual(['docs/readme.md', 'images/logo.png']);
    expect([files.added.count, files.removed.count, files.changed.count]).toEqual([1, 1, 2]);
    // The dry run changed nothing.
    expect(state(db, assets)).not.toEqual(before);

    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--confirm', 'prod', '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    const result = jsonOf<RestoreResult>(r);
    expect(state(db, assets)).toEqual(before);
    expect(result.verification.length).toBeGreaterThan(4);
    expect(result.verification.every((c) => c.status === 'PASS')).toBe(true);
    expect(result.safetySet?.id).toMatch(/^shop_prod_\d{8}_\d{6}(_\d+)?$/);
    // Nothing of the swap is left beside the targets.
    expect(readdirSync(path.dirname(db)).filter((n) => n.includes('.lifeboat-'))).toEqual([]);

    // The safety set holds the damaged state, and restoring it undoes the restore.
    const list = jsonOf<{ id: string; label: string | null }[]>(await runCli(['list', '--env', 'prod', '--json'], home));
    expect(list.find((s) => s.id === result.safetySet!.id)?.label).toBe('pre-restore');
    const undo = await runCli(['restore', '--env', 'prod', '--set', result.safetySet!.id, '--confirm', 'prod'], home);
    expect(undo.code, undo.stderr).toBe(0);
    expect(Number(sqlite3(db, 'SELECT count(*) FROM orders'))).toBe(290);
    expect(readFileSync(path.join(assets, 'new-upload.txt'), 'utf8')).toBe('added after the backup');

    const activity = jsonOf<{ action: string; outcome: string; door: string; summary: string }[]>(await runCli(['activity', '--env', 'prod', '--json'], home));
    const restores = activity.filter((a) => a.action === 'restore');
    expect(restores).toHaveLength(2);
    expect(restores.every((a) => a.outcome === 'success' && a.door === 'cli')).toBe(true);
    expect(restores[1]!.summary).toContain(`safety backup ${result.safetySet!.id}`);
  });

  it('refuses a set whose drill fails; live data unchanged', async () => {
    const { home, db, assets, set } = await setup('normal');
    damage(db, assets);
    const before = state(db, assets);
    const gz = path.join(set.path, 'db.sqlite.gz');
    const bytes = readFileSync(gz);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(gz, bytes);
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--json'], home);
    expect(r.code).toBe(3);
    const { error } = jsonOf<{ error: { code: string; message: string } }>(r);
    expect(error.code).toBe('SET_FAILED_DRILL');
    expect(error.message).toContain('db.sqlite.gz: size and SHA-256 as recorded');
    expect(r.stderr).toContain('Your live data was not changed.');
    expect(state(db, assets)).toEqual(before);
  });

  it('refuses a protected environment without the typed name; live data unchanged', async () => {
    const { home, db, assets, set } = await setup('protected');
    damage(db, assets);
    const before = state(db, assets);
    const dbSha = fileSha(db);
    for (const confirm of [[], ['--confirm', 'PROD'], ['--confirm', 'staging']]) {
      const r = await runCli(['restore', '--env', 'prod', '--set', set.id, ...confirm, '--json'], home);
      expect(r.code).toBe(3);
      expect(jsonOf<{ error: { code: string } }>(r).error.code).toBe('CONFIRMATION_REQUIRED');
    }
    expect(state(db, assets)).toEqual(before);
    expect(fileSha(db)).toBe(dbSha);
    const list = jsonOf<{ label: string | null }[]>(await runCli(['list', '--env', 'prod', '--json'], home));
    expect(list.filter((s) => s.label === 'pre-restore')).toEqual([]);
  });

  it('refuses while another process has the SQLite database open, naming it; live data unchanged', async () => {
    const { home, db, assets, set } = await setup('normal');
    damage(db, assets);
    const before = state(db, assets);
    const holder = await holdOpen(db, true);
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--json'], home);
    expect(r.code).toBe(3);
    const { error } = jsonOf<{ error: { code: string; message: string } }>(r);
    expect(error.code).toBe('IN_USE');
    expect(error.message).toContain(`(pid ${holder.pid})`);
    expect(error.message).toContain('close it');
    holder.kill('SIGKILL');
    expect(state(db, assets)).toEqual(before);
  });

  it('refuses while a process has a file under the folder open (Linux); live data unchanged', async () => {
    const { home, db, assets, set } = await setup('normal');
    damage(db, assets);
    const before = state(db, assets);
    const holder = await holdOpen(path.join(assets, 'images', 'logo.png'), false);
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id], home);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`(pid ${holder.pid}): ${path.join(assets, 'images', 'logo.png')}`);
    holder.kill('SIGKILL');
    expect(state(db, assets)).toEqual(before);
  });

  it('restores --to a scratch folder without touching the live data (hash and mtime)', async () => {
    const { root, home, db, assets, set } = await setup('protected');
    damage(db, assets);
    const before = state(db, assets);
    const mtimes = [statSync(db).mtimeMs, statSync(assets).mtimeMs];
    const scratch = path.join(root, 'scratch-restore');
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--to', scratch, '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    const result = jsonOf<RestoreResult>(r);
    expect(result.mode).toBe('elsewhere');
    expect(result.safetySet).toBeNull();
    expect(state(db, assets)).toEqual(before);
    expect([statSync(db).mtimeMs, statSync(assets).mtimeMs]).toEqual(mtimes);
    expect(Number(sqlite3(path.join(scratch, 'db', 'shop.db'), 'SELECT count(*) FROM orders'))).toBe(300);
    expect(readdirSync(path.join(scratch, 'assets')).sort()).toEqual(['docs', 'images', 'notes.txt']);
    const again = await runCli(['restore', '--env', 'prod', '--set', set.id, '--to', scratch], home);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('already holds');
  });
});

describe('cancelling a restore', () => {
  it('leaves the target as it was, with nothing staged left behind, and logs it as cancelled', async () => {
    const { home, db, assets, set } = await setup('normal');
    damage(db, assets);
    const before = state(db, assets);
    const { Engine } = await import('../../electron/engine/engine.js');
    const engine = new Engine(home, 'test');
    try {
      const controller = new AbortController();
      const phases: string[] = [];
      const run = engine.call(
        'restore.run',
        { env: 'prod', set: set.id },
        {
          signal: controller.signal,
          onProgress: (p) => {
            phases.push(p.phase);
            if (p.phase === 'stage') controller.abort();
          },
        },
      );
      await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(phases).toContain('safety backup');
      expect(state(db, assets)).toEqual(before);
      expect(readdirSync(path.dirname(db)).filter((n) => n.includes('.lifeboat-'))).toEqual([]);
      expect(readdirSync(path.join(home, 'restores'))).toEqual([]);
      const [last] = await engine.call('activity.list', { env: 'prod', limit: 1 });
      expect(last).toMatchObject({ action: 'restore', outcome: 'cancelled', door: 'test' });
    } finally {
      engine.close();
    }
  });
});
