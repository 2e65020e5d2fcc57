import { existsSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../electron/engine/environment-file.js';
import type { EnvironmentInput } from '../../shared/environment.js';
import { makeLiveData, treeFingerprint } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { failure, jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';
import { checkResultsAgainstContract } from '../support/contract-check.js';

const temp = useTempDirs();
const engineAt = useEngines();

/** shop/prod (protected) with its live data and one sealed set in root/sets. */
async function protectedShop() {
  const root = temp();
  makeLiveData(root);
  const engine = engineAt(path.join(root, 'home'));
  await engine.call('env.save', { environment: demoEnvironment(root) });
  const set = await engine.call('backup.run', { env: 'prod' });
  return { root, engine, set };
}

checkResultsAgainstContract();

describe('saving a protected environment in a way that weakens it needs the typed name', () => {
  it('lowering its protection, changing its location, removing a source or pointing one elsewhere is refused without it, and nothing is saved', async () => {
    const { root, engine } = await protectedShop();
    const before = await engine.call('env.get', { env: 'prod' });
    mkdirSync(path.join(root, 'elsewhere'));
    const changes: [Partial<EnvironmentInput>, RegExp][] = [
      [{ protection: 'normal' }, /protection from protected to normal/],
      [{ location: path.join(root, 'other-sets') }, /location from .*sets to .*other-sets/],
      [{ sources: [demoEnvironment(root).sources[0]!] }, /removes the source "assets"/],
      // Same name, another folder: a restore would write the set's files somewhere else.
      [
        { sources: [demoEnvironment(root).sources[0]!, { ...demoEnvironment(root).sources[1]!, path: path.join(root, 'elsewhere') } as EnvironmentInput['sources'][number]] },
        /changes where source "assets" restores to \(files .*live\/assets → files .*elsewhere\)/,
      ],
    ];
    for (const [extra, what] of changes) {
      for (const confirm of [undefined, 'wrong', 'shop']) {
        const err = await failure(engine.call('env.save', { environment: demoEnvironment(root, extra), ...(confirm ? { confirm } : {}) }));
        expect(err.code, JSON.stringify(extra)).toBe('CONFIRMATION_REQUIRED');
        expect(err.message).toMatch(what);
        expect(err.hint).toMatch(/Type prod to confirm .*--confirm prod.*Nothing was saved/);
      }
      expect(await engine.call('env.get', { env: 'prod' })).toEqual(before);
    }
    const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
    expect(entry).toMatchObject({ action: 'env.save', outcome: 'refused' });

    // So a restore over the live data still asks for the name.
    const sets = await engine.call('sets.list', { env: 'prod' });
    expect((await failure(engine.call('restore.run', { env: 'prod', set: sets[0]!.id }))).code).toBe('CONFIRMATION_REQUIRED');

    // Changes that weaken nothing need no name; with the name, the weakening save goes through.
    await engine.call('env.save', { environment: demoEnvironment(root, { retention: { keepLast: 3 } }) });
    expect((await engine.call('env.get', { env: 'prod' })).retention?.keepLast).toBe(3);
    const saved = await engine.call('env.save', { environment: demoEnvironment(root, { protection: 'normal' }), confirm: 'prod' });
    expect(saved.protection).toBe('normal');
  });

  it('`lifeboat env import` refuses with exit 3 and the hint, and saves with --confirm NAME', async () => {
    const { root } = await protectedShop();
    const home = path.join(root, 'home');
    const file = writeEnvFile(root, demoEnvironment(root, { protection: 'normal' }));
    const refused = await runCli(['env', 'import', file], home);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/shop\/prod is protected: this save changes its protection from protected to normal/);
    expect(refused.stderr).toMatch(/Hint: Type prod to confirm \(on the command line: lifeboat env import FILE --confirm prod\)\. Nothing was saved\./);
    expect(jsonOf<{ protection: string }>(await runCli(['env', 'show', 'prod', '--json'], home)).protection).toBe('protected');
    const done = await runCli(['env', 'import', file, '--confirm', 'prod'], home);
    expect(done.code, done.stderr).toBe(0);
    expect(jsonOf<{ protection: string }>(await runCli(['env', 'show', 'prod', '--json'], home)).protection).toBe('normal');
  });
});

describe('where an environment name is not unique, the typed confirmation is the full app/env', () => {
  it('typing `prod` no longer confirms shop/prod while iir/prod exists; `shop/prod` does, and the hint says so', async () => {
    const { root, engine, set } = await protectedShop();
    // Adding a retention policy weakens nothing: saved without the name.
    await engine.call('env.save', { environment: demoEnvironment(root, { retention: { keepLast: 5 } }) });
    await engine.call('env.save', { environment: demoEnvironment(root, { app: 'iir', location: path.join(root, 'iir-sets') }) });
    const list = await engine.call('env.list', {});
    expect(list.map((e) => [e.key, e.confirmAs])).toEqual([
      ['iir/prod', 'iir/prod'],
      ['shop/prod', 'shop/prod'],
    ]);

    const restore = await failure(engine.call('restore.run', { env: 'shop/prod', set: set.id, confirm: 'prod' }));
    expect(restore.code).toBe('CONFIRMATION_REQUIRED');
    expect(restore.hint).toMatch(/Type shop\/prod to confirm \(on the command line: --confirm shop\/prod\)/);
    const del = await failure(engine.call('sets.delete', { env: 'shop/prod', set: set.id, confirm: 'prod' }));
    expect(del.code).toBe('CONFIRMATION_REQUIRED');
    expect(del.hint).toMatch(/--confirm shop\/prod/);
    const prune = await failure(engine.call('sets.prune', { env: 'shop/prod', dryRun: false, confirm: 'prod' }));
    expect(prune.code).toBe('CONFIRMATION_REQUIRED');
    const save = await failure(engine.call('env.save', { environment: demoEnvironment(root, { protection: 'normal', retention: { keepLast: 5 } }), confirm: 'prod' }));
    expect(save.code).toBe('CONFIRMATION_REQUIRED');
    expect(save.hint).toMatch(/--confirm shop\/prod/);
    expect(readdirSync(path.join(root, 'sets'))).toContain(set.id);

    const deleted = await engine.call('sets.delete', { env: 'shop/prod', set: set.id, confirm: 'shop/prod' });
    expect(deleted.deleted.id).toBe(set.id);
    expect(existsSync(set.path)).toBe(false);
  });
});

describe('a backup location is compared with the sources by real path, links resolved', () => {
  /** root/backups is a link into the live assets folder: root/backups/sets is inside it. */
  function linkedIntoAssets(root: string): string {
    symlinkSync(path.join(root, 'live', 'assets'), path.join(root, 'backups'));
    return path.join(root, 'backups', 'sets');
  }

  it('the editor and env.save refuse a location reached through a link into a files source, and write nothing there', async () => {
    const root = temp();
    makeLiveData(root);
    const engine = engineAt(path.join(root, 'home'));
    const assets = path.join(root, 'live', 'assets');
    const live = treeFingerprint(assets);
    const location = linkedIntoAssets(root);
    const check = await engine.call('env.check', { environment: demoEnvironment(root, { location }) });
    expect(check.ok).toBe(false);
    expect(check.problems.find((p) => p.path === 'location')?.message).toMatch(new RegExp(`leads to ${assets}/sets, inside the folder of source "assets"`));
    const err = await failure(engine.call('env.save', { environment: demoEnvironment(root, { location }) }));
    expect(err.code).toBe('BAD_ENVIRONMENT');
    expect(err.message).toMatch(/location: .*inside the folder of source "assets"/);
    expect(await engine.call('env.list', {})).toEqual([]);
    expect(treeFingerprint(assets)).toEqual(live);
  });

  it('a source reached through a link into the location is refused too', async () => {
    const root = temp();
    makeLiveData(root);
    const engine = engineAt(path.join(root, 'home'));
    mkdirSync(path.join(root, 'sets'));
    symlinkSync(path.join(root, 'sets'), path.join(root, 'to-sets'));
    mkdirSync(path.join(root, 'sets', 'assets'));
    const env = demoEnvironment(root, { sources: [{ kind: 'files', name: 'assets', path: path.join(root, 'to-sets', 'assets') }] });
    const err = await failure(engine.call('env.save', { environment: env }));
    expect(err.code).toBe('BAD_ENVIRONMENT');
    expect(err.message).toMatch(new RegExp(`sources\\[0\\]\\.path: leads to ${root}/sets/assets, inside the backup location ${root}/sets`));
  });

  it('a backup refuses such a location (saved before the link was made) with its own code, and no lock or folder appears in the live folder', async () => {
    const root = temp();
    makeLiveData(root);
    const engine = engineAt(path.join(root, 'home'));
    const assets = path.join(root, 'live', 'assets');
    const live = treeFingerprint(assets);
    // Saved while root/backups did not exist yet; the link is made afterwards.
    engine.catalog.saveEnvironment(parseEnvironment(demoEnvironment(root, { location: path.join(root, 'backups', 'sets') }), null));
    linkedIntoAssets(root);
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code).toBe('LOCATION_INSIDE_SOURCE');
    expect(err.message).toMatch(new RegExp(`${root}/backups/sets leads to ${assets}/sets, inside the folder of source "assets"`));
    expect(err.hint).toMatch(/Choose a location outside .*Nothing was written/);
    expect(treeFingerprint(assets)).toEqual(live);
    expect(existsSync(path.join(assets, 'sets'))).toBe(false);
  });
});

describe('a location that changed in the environment is a new location', () => {
  it('backups go to the new, empty location; the old sets stay listed under the old one; an unmounted current location still alerts', async () => {
    const { root, engine, set } = await protectedShop();
    const moved = path.join(root, 'new-disk', 'sets');
    await engine.call('env.save', { environment: demoEnvironment(root, { location: moved }), confirm: 'prod' });

    const listed = await engine.call('sets.list', { env: 'prod' });
    expect(listed.map((s) => [s.id, s.path])).toEqual([[set.id, set.path]]);
    let status = (await engine.call('status.get', { env: 'prod' })).environments[0]!;
    expect(status.alerts.map((a) => a.code)).not.toContain('LOCATION_MISSING');

    const next = await engine.call('backup.run', { env: 'prod' });
    expect(path.dirname(next.path)).toBe(moved);
    expect(readdirSync(moved)).toContain(next.id);
    const both = await engine.call('sets.list', { env: 'prod' });
    expect(both.map((s) => s.path).sort()).toEqual([set.path, next.path].sort());
    // The old set still drills where it is.
    expect((await engine.call('drill.run', { env: 'prod', set: set.id })).passed).toBe(true);

    // The new disk is unmounted: that is the missing location, with its own one set.
    renameSync(path.join(root, 'new-disk'), path.join(root, 'away'));
    status = (await engine.call('status.get', { env: 'prod' })).environments[0]!;
    expect(status.alerts.find((a) => a.code === 'LOCATION_MISSING')?.message).toContain(`The backup location ${moved} is missing or cannot be read, though 1 set was recorded there.`);
    const refused = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(refused.code).toBe('LOCATION_UNREADABLE');
    expect(refused.message).toContain('though 1 set was recorded there');
    expect(existsSync(moved)).toBe(false);
    // Refused, as the CLI's exit code (3) says: logged so, not as a failed backup.
    const [entry] = await engine.call('activity.list', { env: 'prod', limit: 1 });
    expect(entry).toMatchObject({ action: 'backup', outcome: 'refused', summary: refused.message });
  });
});
