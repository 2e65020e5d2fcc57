import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAppDb, makeAssets } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { CLI, jsonOf, requireBinary, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const tempDir = useTempDirs();

/** A live database and assets folder with an imported environment; returns its paths. */
async function setup() {
  const root = tempDir();
  mkdirSync(path.join(root, 'live', 'assets'), { recursive: true });
  makeAppDb(path.join(root, 'live', 'shop.db'));
  makeAssets(path.join(root, 'live', 'assets'));
  const home = path.join(root, 'home');
  const envFile = writeEnvFile(root, demoEnvironment(root));
  const imported = await runCli(['env', 'import', envFile], home);
  expect(imported.code, imported.stderr).toBe(0);
  return { root, home, envFile, sets: path.join(root, 'sets') };
}

/** Folders in the location that look like sets (not hidden). */
function visibleSets(location: string): string[] {
  return existsSync(location) ? readdirSync(location).filter((n) => !n.startsWith('.')) : [];
}

describe('the CLI', () => {
  it('imports an environment file, backs up with --json and lists the set', async () => {
    const { home, sets } = await setup();
    const r = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    const result = jsonOf<{ id: string; path: string; artifacts: { file: string }[] }>(r);
    expect(result.id).toMatch(/^shop_prod_\d{8}_\d{6}$/);
    expect(result.path).toBe(path.join(sets, result.id));
    expect(result.artifacts.map((a) => a.file).sort()).toEqual(['assets.files.jsonl', 'assets.tar.gz', 'db.sqlite.gz']);
    expect(readdirSync(result.path).sort()).toEqual(['RESTORE.txt', 'SHA256SUMS', 'assets.files.jsonl', 'assets.tar.gz', 'db.sqlite.gz', 'manifest.json']);

    const second = jsonOf<{ id: string }>(await runCli(['backup', '--env', 'shop/prod', '--json'], home));
    expect(second.id).not.toBe(result.id);
    const list = jsonOf<{ id: string }[]>(await runCli(['list', '--env', 'prod', '--json'], home));
    expect(list.map((s) => s.id)).toEqual([second.id, result.id].sort().reverse());
    const human = await runCli(['list', '--env', 'prod'], home);
    expect(human.stdout).toContain(result.id);
  });

  it('reports every problem of a bad environment file at once, with field paths, exit 2', async () => {
    const root = tempDir();
    const file = writeEnvFile(root, {
      name: 'Prod!',
      app: 'lrl',
      protection: 'very',
      sources: [
        { kind: 'sqlite', name: 'db' },
        { kind: 'tape', name: 'x', path: '/x' },
      ],
      colour: 'red',
    });
    const r = await runCli(['env', 'import', file, '--json'], path.join(root, 'home'));
    expect(r.code).toBe(2);
    const { error } = jsonOf<{ error: { code: string; message: string; hint: string; problems: { path: string }[] } }>(r);
    expect(error.code).toBe('BAD_ENVIRONMENT');
    expect(error.problems.map((p) => p.path).sort()).toEqual(['(top level)', 'location', 'name', 'protection', 'sources[0].path', 'sources[1].kind'].sort());
    expect(r.stderr).toMatch(/^Error: .*6 problems/m);
    expect(r.stderr).toMatch(/^Hint: /m);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('refuses a location inside a files source (every set would contain the last)', async () => {
    const root = tempDir();
    const env = demoEnvironment(root, { location: path.join(root, 'live', 'assets', 'backups') });
    const r = await runCli(['env', 'import', writeEnvFile(root, env)], path.join(root, 'home'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('location: is inside the folder of source "assets"');
  });

  it('a missing source: clear error with a hint, exit 2, no set', async () => {
    const { root, home, sets } = await setup();
    const { rmSync } = await import('node:fs');
    rmSync(path.join(root, 'live', 'shop.db'));
    const r = await runCli(['backup', '--env', 'prod'], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Error: ${path.join(root, 'live', 'shop.db')} does not exist.`);
    expect(r.stderr).toMatch(/^Hint: .+/m);
    expect(visibleSets(sets)).toEqual([]);
    expect(readdirSync(sets).filter((n) => n.startsWith('.partial'))).toEqual([]);
  });

  it('a file that is not SQLite: clear error, exit 2, no set', async () => {
    const { root, home, sets } = await setup();
    writeFileSync(path.join(root, 'live', 'shop.db'), 'just some text, not a database');
    const r = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(r.code).toBe(2);
    expect(jsonOf<{ error: { code: string } }>(r).error.code).toBe('SOURCE_NOT_SQLITE');
    expect(r.stderr).toContain('is not a SQLite database');
    expect(visibleSets(sets)).toEqual([]);
  });

  it('a folder without read permission: clear error naming it, exit 2, no set (run as an unprivileged user)', async () => {
    const setpriv = requireBinary('setpriv', 'util-linux');
    const { root, home, sets } = await setup();
    // Everything readable by the unprivileged user except one folder of the assets.
    for (const dir of [root, path.join(root, 'live'), path.join(root, 'live', 'assets'), path.join(root, 'live', 'assets', 'images')]) chmodSync(dir, 0o755);
    const nobody = 65534;
    for (const p of [home, path.join(home, 'catalog.sqlite'), path.join(home, 'catalog.sqlite-wal'), path.join(home, 'catalog.sqlite-shm')]) if (existsSync(p)) chownSync(p, nobody, nobody);
    mkdirSync(sets);
    chownSync(sets, nobody, nobody);
    chmodSync(path.join(root, 'live', 'shop.db'), 0o644);
    chmodSync(path.join(root, 'live', 'assets', 'images'), 0o000);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(setpriv, ['--reuid', String(nobody), '--regid', String(nobody), '--clear-groups', process.execPath, CLI, 'backup', '--env', 'prod'], {
        env: { ...process.env, LIFEBOAT_HOME: home, HOME: root },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).toContain(`No permission to read ${path.join(root, 'live', 'assets', 'images')}`);
    expect(r.stderr).toMatch(/^Hint: /m);
    expect(r.code).toBe(2);
    expect(visibleSets(sets)).toEqual([]);
  });

  it('usage errors exit 2; unknown environments say which exist', async () => {
    const { home } = await setup();
    expect((await runCli(['backup'], home)).code).toBe(2);
    expect((await runCli(['frobnicate'], home)).code).toBe(2);
    const r = await runCli(['backup', '--env', 'staging'], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('There is no environment "staging".');
    expect(r.stderr).toContain('Known environments: shop/prod.');
  });

  it('env export writes back what env import read', async () => {
    const { home, root } = await setup();
    const out = path.join(root, 'exported.json');
    const r = await runCli(['env', 'export', 'prod', '--out', out], home);
    expect(r.code, r.stderr).toBe(0);
    const again = await runCli(['env', 'import', out, '--json'], home);
    expect(jsonOf(again)).toEqual(jsonOf(await runCli(['env', 'show', 'prod', '--json'], home)));
  });

  it('catalog rebuild on a fresh LIFEBOAT_HOME finds every set and adopts the environment', async () => {
    const { home, sets } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(jsonOf<{ id: string }>(await runCli(['backup', '--env', 'prod', '--json'], home)).id);
    const fresh = path.join(tempDir(), 'new-workstation');
    const rebuilt = await runCli(['catalog', 'rebuild', '--location', sets, '--json'], fresh);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const r = jsonOf<{ adoptedEnvironments: string[]; sets: number; added: number }>(rebuilt);
    expect(r.adoptedEnvironments).toEqual(['shop/prod']);
    expect(r.sets).toBe(3);
    const list = jsonOf<{ id: string }[]>(await runCli(['list', '--env', 'prod', '--json'], fresh));
    expect(list.map((s) => s.id).sort()).toEqual(ids.sort());
    const drill = await runCli(['drill', '--env', 'prod', '--set', ids[0]!], fresh);
    expect(drill.code, drill.stdout).toBe(0);
  });
});
