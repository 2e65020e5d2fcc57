import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../../shared/api.js';
import type { Progress } from '../../shared/progress.js';
import { makeLiveData, treeFingerprint } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { failure, sqlite3, useTempDirs } from '../support/tools.js';
import { checkResultsAgainstContract } from '../support/contract-check.js';

const temp = useTempDirs();
const engineAt = useEngines();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** shop/prod (normal protection) with one sealed set, through the engine as a door would call it. */
async function backedUp() {
  const root = temp();
  makeLiveData(root, { rows: 200 });
  const engine = engineAt(path.join(root, 'home'));
  await engine.call('env.save', { environment: demoEnvironment(root, { protection: 'normal' }) });
  const set = await engine.call('backup.run', { env: 'prod' });
  return { root, engine, set, db: path.join(root, 'live', 'shop.db') };
}

/** One flipped byte in the middle of a file, as a failing disk would leave it. */
function flipByte(file: string, at = 200): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

/** Another process with the file open, as the running application would. */
function holdOpen(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(file)}, 'r'); console.log('open'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve) => child.stdout!.once('data', () => resolve(child)));
}

checkResultsAgainstContract();

describe('restore.preflight: the checks a restore makes, run now', () => {
  it('FAILs for a set damaged after an earlier drill passed, naming the artifact, with the drill progress told', async () => {
    const { engine, set } = await backedUp();
    const first = await engine.call('drill.run', { env: 'prod', set: set.id });
    expect(first.passed).toBe(true);
    const good = api['restore.preflight'].result.parse(await engine.call('restore.preflight', { env: 'prod', set: set.id }));
    expect(good.ready).toBe(true);
    expect(good.checks.find((c) => c.name === 'drill of the set')?.status).toBe('PASS');

    flipByte(path.join(set.path, 'db.sqlite.gz'));
    const seen: Progress[] = [];
    const bad = api['restore.preflight'].result.parse(await engine.call('restore.preflight', { env: 'prod', set: set.id }, { job: 'p1', onProgress: (p) => seen.push(p) }));
    expect(bad.ready).toBe(false);
    const drill = bad.checks.find((c) => c.name === 'drill of the set')!;
    expect(drill.status).toBe('FAIL');
    expect(drill.reason).toContain('db.sqlite.gz');
    expect(seen.some((p) => p.operation === 'drill')).toBe(true);
    // The fresh drill is recorded, so History shows the set as failed too.
    expect((await engine.call('sets.list', { env: 'prod' })).find((s) => s.id === set.id)?.drill?.passed).toBe(false);
    // And the restore itself is refused by the engine's own pre-flight.
    expect((await failure(engine.call('restore.run', { env: 'prod', set: set.id }))).code).toBe('SET_FAILED_DRILL');
  });

  it('reports a target in use, names the process, and passes again once it is closed', async () => {
    const { engine, set, db } = await backedUp();
    const holder = await holdOpen(db);
    const busy = await engine.call('restore.preflight', { env: 'prod', set: set.id });
    expect(busy.ready).toBe(false);
    const inUse = busy.checks.find((c) => c.name === 'not in use' && c.target === db)!;
    expect(inUse.status).toBe('FAIL');
    expect(inUse.reason).toContain(`(pid ${holder.pid})`);
    expect(busy.checks.find((c) => c.name === 'drill of the set')?.status).toBe('PASS');
    expect(busy.checks.find((c) => c.name === 'enough free space')?.status).toBe('PASS');

    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const again = await engine.call('restore.preflight', { env: 'prod', set: set.id });
    expect(again.ready).toBe(true);
    expect(again.checks.filter((c) => c.name === 'not in use').every((c) => c.status === 'PASS')).toBe(true);
  });

  it('for a restore elsewhere, FAILs a folder that is not empty, as the folder check says while it is typed', async () => {
    const { root, engine, set } = await backedUp();
    const full = path.join(root, 'full');
    mkdirSync(full);
    writeFileSync(path.join(full, 'keep.txt'), 'mine');
    const pre = await engine.call('restore.preflight', { env: 'prod', set: set.id, to: full });
    expect(pre.mode).toBe('elsewhere');
    const empty = pre.checks.find((c) => c.name === 'destination is empty')!;
    expect(empty.status).toBe('FAIL');
    expect(pre.ready).toBe(false);

    const typed = await engine.call('restore.checkFolder', { to: full });
    expect(typed).toMatchObject({ folder: full, status: 'FAIL' });
    expect(typed.reason).toBe(empty.reason);
    expect(typed.reason).toContain('keep.txt');
    const fresh = await engine.call('restore.checkFolder', { to: path.join(root, 'new', 'place') });
    expect(fresh.status).toBe('PASS');
    const file = await engine.call('restore.checkFolder', { to: path.join(full, 'keep.txt') });
    expect(file.status).toBe('FAIL');
    expect(file.reason).toContain('is a file, not a folder');
    const relative = await engine.call('restore.checkFolder', { to: 'restored' });
    expect(relative.status).toBe('FAIL');
    expect(relative.reason).toContain('full path');
  });

  it('for a restore elsewhere, FAILs a new folder inside the live assets or the backup location, also through a link, and the restore writes nothing there', async () => {
    const { root, engine, set } = await backedUp();
    const assets = path.join(root, 'live', 'assets');
    symlinkSync(assets, path.join(root, 'to-assets'));
    const cases: [string, RegExp][] = [
      [path.join(assets, 'restore-test'), /inside the live folder of source "assets"/],
      [path.join(root, 'to-assets', 'restore-test'), /leads to .*live\/assets\/restore-test\) is inside the live folder of source "assets"/],
      [path.join(root, 'sets', 'restore-test'), /inside the backup location/],
    ];
    const before = treeFingerprint(path.join(root, 'live'));
    for (const [to, why] of cases) {
      const typed = await engine.call('restore.checkFolder', { to, env: 'prod' });
      expect(typed.status, to).toBe('FAIL');
      expect(typed.reason).toMatch(why);
      const pre = await engine.call('restore.preflight', { env: 'prod', set: set.id, to });
      expect(pre.ready).toBe(false);
      expect(pre.checks.find((c) => c.name === 'destination apart from live data')!.reason).toBe(typed.reason);
      const err = await failure(engine.call('restore.run', { env: 'prod', set: set.id, to }));
      expect(err.code).toBe('TARGET_NOT_APART');
      expect(err.hint).toMatch(/outside the live folders and the backup location.*Your live data was not changed/);
      expect(existsSync(to)).toBe(false);
    }
    expect(treeFingerprint(path.join(root, 'live'))).toEqual(before);
    expect((await engine.call('restore.checkFolder', { to: path.join(root, 'apart'), env: 'prod' })).status).toBe('PASS');
  });

  it('a restore right after a passing pre-flight does not drill again while the set is byte for byte the same, and does when it changed', async () => {
    const { engine, set, db } = await backedUp();
    const lastDrill = () => engine.catalog.latestDrillReport(set.id);
    await engine.call('restore.preflight', { env: 'prod', set: set.id });
    const checked = lastDrill()!;
    expect(checked.passed).toBe(true);
    sqlite3(db, 'DELETE FROM orders;');
    const done = await engine.call('restore.run', { env: 'prod', set: set.id });
    expect(done.verification.every((c) => c.status !== 'FAIL')).toBe(true);
    expect(Number(sqlite3(db, 'SELECT count(*) FROM orders;'))).toBe(200);
    expect(lastDrill()).toEqual(checked);

    // Damaged between the pre-flight and the restore: the restore drills again and refuses.
    await engine.call('restore.preflight', { env: 'prod', set: set.id });
    const rechecked = lastDrill()!;
    expect(rechecked.startedAt).not.toBe(checked.startedAt);
    flipByte(path.join(set.path, 'db.sqlite.gz'));
    sqlite3(db, 'DELETE FROM orders;');
    expect((await failure(engine.call('restore.run', { env: 'prod', set: set.id }))).code).toBe('SET_FAILED_DRILL');
    expect(lastDrill()).toMatchObject({ passed: false });
    expect(sqlite3(db, 'SELECT count(*) FROM orders;')).toBe('0');
  });
});
