import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../electron/engine/environment-file.js';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { useMounts } from '../support/mounts.js';
import { failure, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const temp = useTempDirs();
const mount = useMounts();
const engineAt = useEngines();

/** The live data of the demo environment and an engine, with the location left to the test. */
function setup() {
  const root = temp();
  makeLiveData(root);
  return { root, engine: engineAt(path.join(root, 'home')) };
}

/** A tmpfs with no inode left once its root exists: listing and access() say "writable", but no file can be created. */
function fullOfInodes(root: string): string {
  return mount(path.join(root, 'no-inodes'), 'size=1m,nr_inodes=1');
}

describe('a backup location that cannot hold backups is refused before anything is written', () => {
  it('the editor refuses places under /proc, /sys and /dev, saying what they are and what to do', async () => {
    const { root, engine } = setup();
    for (const [location, what] of [
      ['/proc/lifeboat/sets', /\/proc/],
      ['/sys/lifeboat', /\/sys/],
      ['/dev/shm/lifeboat', /\/dev/],
    ] as const) {
      const check = await engine.call('env.check', { environment: demoEnvironment(root, { location }) });
      expect(check.ok, location).toBe(false);
      expect(check.location.status, location).toBe('problem');
      const problem = check.problems.find((p) => p.path === 'location');
      expect(problem?.message, location).toMatch(what);
      expect(problem?.message, location).toMatch(/not a disk/);
      expect(problem?.hint, location).toMatch(/Choose a folder on a disk/);
    }
  });

  it('the editor refuses a read-only filesystem and one where a test file cannot be created', async () => {
    const { root, engine } = setup();
    const ro = mount(path.join(root, 'ro'), 'ro,size=1m');
    const check = await engine.call('env.check', { environment: demoEnvironment(root, { location: path.join(ro, 'sets') }) });
    expect(check.location).toMatchObject({ status: 'problem' });
    expect(check.location.summary).toMatch(/read-only filesystem/);
    expect(check.problems.find((p) => p.path === 'location')?.hint).toMatch(/writable disk/);

    const full = fullOfInodes(root);
    const probe = await engine.call('env.check', { environment: demoEnvironment(root, { location: full }) });
    expect(probe.location.status).toBe('problem');
    expect(probe.location.summary).toMatch(/a test file could not be created .*ENOSPC/);
    expect(readdirSync(full)).toEqual([]);
  });

  it('the editor still accepts a writable folder, and leaves nothing behind from its test file', async () => {
    const { root, engine } = setup();
    mkdirSync(path.join(root, 'sets'));
    const check = await engine.call('env.check', { environment: demoEnvironment(root) });
    expect(check.problems).toEqual([]);
    expect(check.location.summary).toMatch(/^Writable; .* free on that disk\.$/);
    expect(readdirSync(path.join(root, 'sets'))).toEqual([]);
  });

  it("env.save refuses them too, naming the field, with the location's own hint", async () => {
    const { root, engine } = setup();
    const err = await failure(engine.call('env.save', { environment: demoEnvironment(root, { location: '/proc/lifeboat' }) }));
    expect(err.code).toBe('BAD_ENVIRONMENT');
    expect(err.message).toMatch(/location: \/proc\/lifeboat is inside \/proc/);
    expect(err.hint).toMatch(/Choose a folder on a disk/);
    expect(await engine.call('env.list', {})).toEqual([]);
  });

  it('`lifeboat env import` refuses a read-only location with exit 2 and a hint, and saves nothing', async () => {
    const root = temp();
    makeLiveData(root);
    const ro = mount(path.join(root, 'ro'), 'ro,size=1m');
    const file = writeEnvFile(root, demoEnvironment(root, { location: path.join(ro, 'sets') }));
    const home = path.join(root, 'home');
    const r = await runCli(['env', 'import', file], home);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/location: .* is on a read-only filesystem/);
    expect(r.stderr).toMatch(/Hint: .*writable disk/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const list = await runCli(['env', 'list'], home);
    expect(list.stdout).toMatch(/No environments yet/);
  });

  it('the file parser alone stays pure: it does not probe the disk', () => {
    expect(parseEnvironment(demoEnvironment('/srv', { location: '/proc/x' }), null).location).toBe('/proc/x');
  });
});

describe('the backup refuses a location that went bad after it was imported', () => {
  it('a location under /proc is refused at once instead of spinning for ever', async () => {
    const { root, engine } = setup();
    // Saved as an older Lifeboat (or a hand-edited catalog) would have it, past the import check.
    engine.catalog.saveEnvironment(parseEnvironment(demoEnvironment(root, { location: '/proc/lifeboat' }), null));
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code).toBe('LOCATION_UNWRITABLE');
    expect(err.message).toMatch(/\/proc\/lifeboat .*inside \/proc/);
    expect(err.hint).toMatch(/Choose a folder on a disk/);
    const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
    expect(entry).toMatchObject({ action: 'backup', outcome: 'failed' });
    expect(existsSync('/proc/lifeboat')).toBe(false);
  });

  it('a location remounted read-only is refused with the read-only hint', async () => {
    const { root, engine } = setup();
    const location = path.join(root, 'sets');
    await engine.call('env.save', { environment: demoEnvironment(root) });
    mount(location, 'ro,size=1m');
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code).toBe('LOCATION_UNWRITABLE');
    expect(err.message).toMatch(/read-only filesystem/);
    expect(err.hint).toMatch(/writable disk/);
  });

  it('a location where no file can be created any more is refused before the lock, naming the cause', async () => {
    const { root, engine } = setup();
    const location = path.join(root, 'no-inodes');
    await engine.call('env.save', { environment: demoEnvironment(root, { location }) });
    fullOfInodes(root);
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toMatch(/a test file could not be created .*ENOSPC/);
    expect(readdirSync(location)).toEqual([]);
  });
});
