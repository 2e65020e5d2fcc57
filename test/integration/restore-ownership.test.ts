import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillCheck } from '../../shared/drill.js';
import type { RestorePreview, RestoreResult } from '../../shared/restore.js';
import { makeAppDb, makeAssets } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { resealArtifact } from '../support/reseal.js';
import { CLI, jsonOf, requireBinary, runCli, sqlite3, useTempDirs, writeEnvFile } from '../support/tools.js';

/**
 * Issue 11: a restore over live data must leave every path with the owner, group and mode the
 * application needs, and say by name what it could not put back. Issue 12: a set-uid or set-gid
 * bit never comes back on a file the live data did not have it on.
 */
const tempDir = useTempDirs();
const APP = 1234; // the application's user and group; no name on this machine
const NOBODY = 65534;

/** `stat -c '%u:%g %a'`: what an operator checks. */
const owner = (p: string) => execFileSync('stat', ['-c', '%u:%g %a', p], { encoding: 'utf8' }).trim();

function chownTree(p: string, uid: number, gid: number): void {
  execFileSync('chown', ['-R', `${uid}:${gid}`, p]);
}

/** Live data owned by the application (files 664, folders 775, the database in WAL mode), and one backup of it. */
async function setup() {
  const root = tempDir();
  chmodSync(root, 0o755);
  const live = path.join(root, 'live');
  const assets = path.join(live, 'assets');
  mkdirSync(assets, { recursive: true });
  const db = path.join(live, 'shop.db');
  makeAppDb(db, { rows: 50, wal: true });
  makeAssets(assets);
  execFileSync('find', [assets, '-type', 'd', '-exec', 'chmod', '775', '{}', '+']);
  execFileSync('find', [assets, '-type', 'f', '-exec', 'chmod', '664', '{}', '+']);
  chmodSync(db, 0o664);
  chmodSync(live, 0o775);
  chownTree(live, APP, APP);
  const home = path.join(root, 'home');
  expect((await runCli(['env', 'import', writeEnvFile(root, demoEnvironment(root, { protection: 'normal' }))], home)).code).toBe(0);
  const backup = await runCli(['backup', '--env', 'prod', '--json'], home);
  expect(backup.code, backup.stderr).toBe(0);
  return { root, home, live, db, assets, set: jsonOf<{ id: string; path: string }>(backup) };
}

const checkNamed = (checks: DrillCheck[], name: string) => checks.filter((c) => c.name === name);

describe('restore: owners and modes (root)', () => {
  it('gives every restored path the owner, group and mode the live path had, and new paths the recorded owner', async () => {
    const { home, db, assets, set } = await setup();
    rmSync(path.join(assets, 'notes.txt')); // new to the live data: gets what the set recorded
    writeFileSync(path.join(assets, 'docs', 'readme.md'), 'changed after the backup\n');
    chmodSync(path.join(assets, 'docs', 'readme.md'), 0o660); // the live mode wins over the recorded 664
    sqlite3(db, 'DELETE FROM orders WHERE id <= 5');

    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    const result = jsonOf<RestoreResult>(r);
    expect(owner(db)).toBe(`${APP}:${APP} 664`);
    for (const companion of [`${db}-wal`, `${db}-shm`]) if (existsSync(companion)) expect(owner(companion)).toBe(`${APP}:${APP} 664`);
    expect(owner(assets)).toBe(`${APP}:${APP} 775`);
    for (const dir of ['docs', 'images', 'images/2026']) expect(owner(path.join(assets, dir))).toBe(`${APP}:${APP} 775`);
    for (const file of ['notes.txt', 'images/logo.png', 'images/2026/photo.jpg']) expect(owner(path.join(assets, file))).toBe(`${APP}:${APP} 664`);
    expect(owner(path.join(assets, 'docs', 'readme.md'))).toBe(`${APP}:${APP} 660`);
    expect(readFileSync(path.join(assets, 'docs', 'readme.md'), 'utf8')).toBe('# Assets\n'.repeat(200));
    // The application's user can open and write its database again.
    const write = spawnAs(APP, [], ['sqlite3', db, "INSERT INTO customers (name) VALUES ('after the restore')"]);
    expect(write.code, write.stderr).toBe(0);

    const kept = checkNamed(result.verification, 'owners and modes kept');
    expect(kept.map((c) => [c.target, c.status])).toEqual([
      [db, 'PASS'],
      [assets, 'PASS'],
    ]);
    expect(result.verification.filter((c) => c.status !== 'PASS')).toEqual([]);
  });

  it("restores an older set without recorded owners: live paths keep theirs, new paths get the target folder's owner", async () => {
    const { home, db, assets, set } = await setup();
    stripOwners(set.path);
    rmSync(path.join(assets, 'notes.txt'));
    rmSync(path.join(assets, 'images'), { recursive: true });
    rmSync(db);
    for (const c of [`${db}-wal`, `${db}-shm`]) rmSync(c, { force: true });
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(Number(sqlite3(db, 'SELECT count(*) FROM orders'))).toBe(50);
    expect(readdirSync(assets).sort()).toEqual(['docs', 'images', 'notes.txt']);
    for (const p of ['notes.txt', 'images', 'images/logo.png', 'images/2026/photo.jpg', 'docs/readme.md']) expect(owner(path.join(assets, p)).split(' ')[0]).toBe(`${APP}:${APP}`);
    // No owner recorded: the new database gets its folder's owner, not root's.
    expect(owner(db).split(' ')[0]).toBe(`${APP}:${APP}`);
    const result = jsonOf<RestoreResult>(r);
    expect(result.verification.filter((c) => c.status === 'FAIL')).toEqual([]);
  });

  it('never brings back a set-uid or set-gid bit the live file does not have, and says which', async () => {
    const { home, assets } = await setup();
    const tool = path.join(assets, 'tool.sh');
    const kept = path.join(assets, 'kept.sh');
    for (const f of [tool, kept]) {
      writeFileSync(f, '#!/bin/sh\necho hi\n');
      chownSync(f, APP, APP); // before chmod: a chown clears set-uid bits
      chmodSync(f, 0o6755);
    }
    const backup = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(backup.code, backup.stderr).toBe(0);
    const set = jsonOf<{ id: string }>(backup);
    rmSync(tool); // new to the live data on restore
    writeFileSync(kept, '#!/bin/sh\necho changed\n'); // still set-uid live: it keeps the bits

    const dry = jsonOf<RestorePreview>(await runCli(['restore', '--env', 'prod', '--set', set.id, '--dry-run', '--json'], home));
    const files = dry.sources.find((s) => s.type === 'files');
    expect(files?.ownership.samples.find((c) => c.path === tool)).toMatchObject({ now: null, after: { uid: APP, gid: APP, mode: 0o755 } });
    expect(files?.ownership.samples.find((c) => c.path === tool)?.why).toContain('set-uid');

    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(owner(tool)).toBe(`${APP}:${APP} 755`);
    expect(owner(kept)).toBe(`${APP}:${APP} 6755`);
    const result = jsonOf<RestoreResult>(r);
    const bits = checkNamed(result.verification, 'set-uid and set-gid bits not restored');
    expect(bits.map((c) => c.status)).toEqual(['WARN']);
    expect(bits[0]?.reason).toContain(tool);
    expect(bits[0]?.reason).not.toContain(kept);
  });

  it('a restore test (--to) keeps the recorded modes and leaves owners to the user running it', async () => {
    const { root, home, set } = await setup();
    const scratch = path.join(root, 'scratch');
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--to', scratch, '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(owner(path.join(scratch, 'db', 'shop.db'))).toBe('0:0 664');
    expect(owner(path.join(scratch, 'assets'))).toBe('0:0 775');
    expect(owner(path.join(scratch, 'assets', 'notes.txt'))).toBe('0:0 664');
    expect(owner(path.join(scratch, 'assets', 'images'))).toBe('0:0 775');
    const result = jsonOf<RestoreResult>(r);
    expect(result.verification.filter((c) => c.status !== 'PASS')).toEqual([]);
    expect(checkNamed(result.verification, 'modes as recorded').map((c) => c.status)).toEqual(['PASS', 'PASS']);
  });

  it('the preview lists a live path whose owner or mode differs from the set: the live one is kept', async () => {
    const { home, db, set } = await setup();
    // What the broken restore of issue 11 left behind.
    chownSync(db, 0, 0);
    chmodSync(db, 0o600);
    const dry = await runCli(['restore', '--env', 'prod', '--set', set.id, '--dry-run', '--json'], home);
    expect(dry.code, dry.stderr).toBe(0);
    const tables = jsonOf<RestorePreview>(dry).sources.find((s) => s.type === 'tables');
    expect(tables?.ownership?.count).toBe(1);
    expect(tables?.ownership?.samples[0]).toMatchObject({ path: db, now: { uid: 0, gid: 0, mode: 0o600 }, after: { uid: 0, gid: 0, mode: 0o600 }, inSet: { uid: APP, gid: APP, mode: 0o664 } });
  });
});

describe('restore: owners and modes (not root)', () => {
  it('says by name which paths could not be given back their owner; keeps the group and mode it can', async () => {
    const { root, home, live, db, assets, set } = await setup();
    // Lifeboat runs as an unprivileged user in the application's group, as an operator would set it up.
    chownTree(home, NOBODY, NOBODY);
    chownTree(path.join(root, 'sets'), NOBODY, NOBODY);
    rmSync(path.join(assets, 'notes.txt'));
    sqlite3(db, 'DELETE FROM orders WHERE id <= 5');
    chownTree(live, APP, APP);

    const dry = spawnAs(NOBODY, [APP], [process.execPath, CLI, 'restore', '--env', 'prod', '--set', set.id, '--dry-run', '--json'], { LIFEBOAT_HOME: home, HOME: root });
    expect(dry.code, dry.stderr).toBe(0);
    const preview = JSON.parse(dry.stdout) as RestorePreview;
    const tables = preview.sources.find((s) => s.type === 'tables');
    expect(tables?.ownership?.samples.map((c) => [c.path, c.after.uid, c.after.gid])).toEqual([[db, NOBODY, APP]]);
    expect(tables?.ownership?.samples[0]?.why).toContain('not root');
    const warned = preview.preflight.find((c) => c.name === 'owners can be kept');
    expect(warned?.status).toBe('WARN');
    expect(warned?.reason).toContain(db);

    const run = spawnAs(NOBODY, [APP], [process.execPath, CLI, 'restore', '--env', 'prod', '--set', set.id, '--json'], { LIFEBOAT_HOME: home, HOME: root });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RestoreResult;
    expect(Number(sqlite3(db, 'SELECT count(*) FROM orders'))).toBe(50);
    // The owner could not be given back; the group and mode could, so the application can still write.
    expect(owner(db)).toBe(`${NOBODY}:${APP} 664`);
    expect(owner(path.join(assets, 'notes.txt'))).toBe(`${NOBODY}:${APP} 664`);
    expect(owner(path.join(assets, 'docs'))).toBe(`${NOBODY}:${APP} 775`);
    const notSet = checkNamed(result.verification, 'owners and modes kept');
    expect(notSet.map((c) => [c.target, c.status])).toEqual([
      [db, 'WARN'],
      [assets, 'WARN'],
    ]);
    expect(notSet[0]?.reason).toContain(db);
    expect(notSet[1]?.reason).toContain(path.join(assets, 'notes.txt'));
    expect(notSet[1]?.reason).toContain(path.join(assets, 'docs'));
    expect(notSet[1]?.reason).toContain('not root');
    chownTree(live, APP, APP); // as the application left it: the restore again says what it could not keep
    const text = spawnAs(NOBODY, [APP], [process.execPath, CLI, 'restore', '--env', 'prod', '--set', set.id], { LIFEBOAT_HOME: home, HOME: root });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`WARN  ${db} — owners and modes kept`);
  });
});

/** Runs a command as `uid` (with the group of the same number, plus `groups`) through setpriv, as an operator's service account would. */
function spawnAs(uid: number, groups: number[], argv: string[], env: Record<string, string> = {}) {
  const setpriv = requireBinary('setpriv', 'util-linux');
  const groupArgs = groups.length ? [`--groups=${groups.join(',')}`] : ['--clear-groups'];
  const r = spawnSync(setpriv, [`--reuid=${uid}`, `--regid=${uid}`, ...groupArgs, '--', ...argv], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Removes every owner field a newer Lifeboat records, as a set made before them would be, and reseals the set. */
function stripOwners(setDir: string): void {
  const manifestFile = path.join(setDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { artifacts: { file: string; details: Record<string, unknown> }[] };
  for (const a of manifest.artifacts) delete a.details.file;
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  const index = path.join(setDir, 'assets.files.jsonl');
  const lines = readFileSync(index, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => {
      const { uid: _u, gid: _g, user: _n, group: _r, ...rest } = JSON.parse(l) as Record<string, unknown>;
      const header = 'format' in rest;
      if (header) delete rest.mode;
      return JSON.stringify(rest);
    });
  writeFileSync(index, `${lines.join('\n')}\n`);
  resealArtifact(setDir, 'assets.files.jsonl');
}
