import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PruneResult, DeleteResult } from '../../shared/retention.js';
import { SetSummary } from '../../shared/api.js';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { copySetAt } from '../support/history.js';
import { failure, jsonOf, requireBinary, runCli, useTempDirs } from '../support/tools.js';
import { execFileSync } from 'node:child_process';
import type { EnvironmentInput } from '../../shared/environment.js';
import { formatBytes } from '../../shared/format.js';

const temp = useTempDirs();
const engineAt = useEngines();
const DAY = 86_400_000;

/** Set folders in the location (what an operator sees with `ls`). */
function setFolders(location: string): string[] {
  return readdirSync(location)
    .filter((n) => /^shop_prod_\d/.test(n))
    .sort();
}

/** The bytes of the regular files in a folder, as `find -type f -printf %s` counts them (what deleting it frees). */
function bytesOnDisk(dir: string): number {
  const find = requireBinary('find', 'findutils');
  return execFileSync(find, [dir, '-type', 'f', '-printf', '%s\\n'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .reduce((n, l) => n + Number(l), 0);
}

/** The byte count in a prune's summary: `(79.3 KB)`. */
const summaryBytes = (summary: string) => /\((\d[^)]*B|\d+ bytes?)\)/.exec(summary)?.[1];

/**
 * A real environment with one real backup, copied to a history of 20 daily sets (the newest
 * today), one of them a pre-restore safety set from yesterday.
 */
async function history(extra: Partial<EnvironmentInput> = {}) {
  const root = temp();
  makeLiveData(root);
  const home = path.join(root, 'home');
  const engine = engineAt(home);
  await engine.call('env.save', { environment: demoEnvironment(root, { protection: 'normal', ...extra }) });
  const real = await engine.call('backup.run', { env: 'prod' });
  const now = Date.now();
  const ids: string[] = [];
  for (let d = 1; d <= 20; d++) ids.push(copySetAt(real.path, new Date(now - d * DAY + 3_600_000), { label: d === 1 ? 'pre-restore' : null }).id);
  const location = path.join(root, 'sets');
  return { root, home, engine, location, real, ids };
}

describe('prune', () => {
  it('a dry run lists exactly what the real prune then deletes, with reasons; both agree with the disk', async () => {
    const { engine, location, real, ids } = await history({ retention: { keepLast: 3, weekly: 4, maxAgeDays: 10 } });
    const before = setFolders(location);
    expect(before).toHaveLength(21);

    const dry = PruneResult.parse(await engine.call('sets.prune', { env: 'prod', dryRun: true }));
    expect(setFolders(location)).toEqual(before); // a dry run deletes nothing
    const planned = dry.decisions
      .filter((d) => d.action === 'prune')
      .map((d) => d.id)
      .sort();
    expect(planned.length).toBeGreaterThan(10);
    expect(dry.summary).toMatch(/^A prune would delete \d+ of 21 sets .* nothing was deleted\.$/);
    const byId = new Map(dry.decisions.map((d) => [d.id, d]));
    expect(byId.get(real.id)!.reasons.map((r) => r.rule)).toEqual(['newest', 'last', 'weekly']);
    expect(byId.get(ids[0]!)!.reasons[0]!.rule).toBe('safety'); // yesterday's pre-restore set: kept 7 days
    expect(byId.get(ids[19]!)!.reasons[0]!.text).toMatch(
      /^(kept by no rule \(the last 3, weekly 4\)|older than the maximum age of 10 days, though it is the newest of week \d{4}-W\d\d \(weekly: \d of 4\))$/,
    );
    expect(dry.decisions.filter((d) => /^older than the maximum age of 10 days, though it is the newest of week/.test(d.reasons[0]!.text))).not.toEqual([]);

    const real1 = PruneResult.parse(await engine.call('sets.prune', { env: 'prod', dryRun: false }));
    expect(real1.deleted.map((d) => d.id).sort()).toEqual(planned);
    expect(real1.decisions).toEqual(dry.decisions);
    expect(setFolders(location)).toEqual(before.filter((id) => !planned.includes(id)));
    expect(real1.deleted.every((d) => d.sizeBytes > 0)).toBe(true);
    expect(readdirSync(location).filter((n) => n.startsWith('.deleting-'))).toEqual([]);

    // The catalog agrees, the activity log says what went, and a second prune finds nothing to do.
    const listed = (await engine.call('sets.list', { env: 'prod' })).map((s) => s.id).sort();
    expect(listed).toEqual(setFolders(location));
    const log = await engine.call('activity.list', { env: 'prod', limit: 5 });
    expect(log[0]).toMatchObject({ action: 'prune', outcome: 'success', summary: `Deleted ${planned.length} of 21 sets (${real1.summary.match(/\((.*?)\)/)![1]}); kept ${21 - planned.length}.` });
    const again = await engine.call('sets.prune', { env: 'prod', dryRun: false });
    expect(again.deleted).toEqual([]);
    expect(again.summary).toMatch(/^Nothing to prune/);
  });

  it('a dry run says the bytes the real prune then frees and reports: per set and in total, as on disk', async () => {
    const { engine, location } = await history({ retention: { keepLast: 3 } });
    const onDisk = new Map(setFolders(location).map((id) => [id, bytesOnDisk(path.join(location, id))]));

    const dry = await engine.call('sets.prune', { env: 'prod', dryRun: true });
    const planned = dry.decisions.filter((d) => d.action === 'prune');
    expect(planned).toHaveLength(17);
    for (const d of dry.decisions) expect([d.id, d.sizeBytes]).toEqual([d.id, onDisk.get(d.id)]);

    const done = await engine.call('sets.prune', { env: 'prod', dryRun: false });
    expect(done.decisions).toEqual(dry.decisions);
    expect(done.deleted.map((d) => [d.id, d.sizeBytes]).sort()).toEqual(planned.map((d) => [d.id, d.sizeBytes]).sort());
    const total = (xs: { sizeBytes: number }[]) => xs.reduce((n, x) => n + x.sizeBytes, 0);
    expect(total(done.deleted)).toBe(total(planned));
    expect(summaryBytes(done.summary)).toBe(summaryBytes(dry.summary));
    expect(summaryBytes(dry.summary)).toBe(formatBytes(total(planned)));
  });

  it('the CLI dry run prints the same sets and bytes the real prune deletes (--json)', async () => {
    const { home, location } = await history({ retention: { keepLast: 5 } });
    const dry = await runCli(['prune', '--env', 'prod', '--dry-run', '--json'], home);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = jsonOf<PruneResult>(dry)
      .decisions.filter((d) => d.action === 'prune')
      .map((d) => d.id);
    const human = await runCli(['prune', '--env', 'prod', '--dry-run'], home);
    for (const id of planned) expect(human.stdout).toMatch(new RegExp(`^PRUNE  ${id} .* kept by no rule \\(the last 5\\)$`, 'm'));
    const done = await runCli(['prune', '--env', 'prod', '--json'], home);
    expect(done.code, done.stderr).toBe(0);
    expect(
      jsonOf<PruneResult>(done)
        .deleted.map((d) => d.id)
        .sort(),
    ).toEqual([...planned].sort());
    // The bytes too: each set's, and the total the two summaries print.
    const plannedBytes = jsonOf<PruneResult>(dry)
      .decisions.filter((d) => d.action === 'prune')
      .map((d) => [d.id, d.sizeBytes]);
    expect(
      jsonOf<PruneResult>(done)
        .deleted.map((d) => [d.id, d.sizeBytes])
        .sort(),
    ).toEqual(plannedBytes.sort());
    expect(summaryBytes(jsonOf<PruneResult>(done).summary)).toBe(summaryBytes(jsonOf<PruneResult>(dry).summary));
    expect(setFolders(location)).toHaveLength(21 - planned.length);
  });

  it('refuses, deleting nothing, when the location cannot be listed or a manifest cannot be read', async () => {
    const { engine, location, ids } = await history({ retention: { keepLast: 1 } });
    const before = setFolders(location);

    // An unmounted disk: the folder is gone. "Cannot list" is never read as "nothing there".
    renameSync(location, `${location}.away`);
    const gone = await failure(engine.call('sets.prune', { env: 'prod', dryRun: false }));
    expect(gone.code).toBe('LOCATION_UNREADABLE');
    expect(gone.message).toContain('cannot be listed (ENOENT)');
    expect(gone.hint).toContain('nothing was deleted');
    // A location that is not a folder.
    writeFileSync(location, 'not a folder');
    expect((await failure(engine.call('sets.prune', { env: 'prod', dryRun: true }))).code).toBe('LOCATION_UNREADABLE');
    rmSync(location);
    renameSync(`${location}.away`, location);

    // One damaged manifest: the policy would have to guess its time and label.
    writeFileSync(path.join(location, ids[5]!, 'manifest.json'), '{"format": 1, "id": trunc');
    const damaged = await failure(engine.call('sets.prune', { env: 'prod', dryRun: false }));
    expect(damaged.code).toBe('SET_UNREADABLE');
    expect(damaged.message).toContain(ids[5]);
    expect(damaged.hint).toContain(`lifeboat delete --env prod --set ID`);
    expect(setFolders(location)).toEqual(before);
    const log = await engine.call('activity.list', { env: 'prod', limit: 2 });
    expect(log.map((a) => [a.action, a.outcome])).toEqual([
      ['prune', 'refused'],
      ['prune', 'refused'],
    ]);
  });

  it('without a policy prunes nothing and says so plainly', async () => {
    const { engine, location } = await history();
    const before = setFolders(location);
    const r = await engine.call('sets.prune', { env: 'prod', dryRun: false });
    expect(r.policy).toBe(false);
    expect(r.summary).toBe('shop/prod has no retention policy: nothing was pruned. Add "retention" to the environment (e.g. { "keepLast": 7 }) to prune.');
    expect(r.decisions.every((d) => d.action === 'keep')).toBe(true);
    expect(setFolders(location)).toEqual(before);
  });

  it('a protected environment needs its name typed to prune or delete', async () => {
    const { engine, location, ids } = await history({ protection: 'protected', retention: { keepLast: 2 } });
    const before = setFolders(location);
    const refused = await failure(engine.call('sets.prune', { env: 'prod', dryRun: false }));
    expect(refused.code).toBe('CONFIRMATION_REQUIRED');
    expect(refused.hint).toContain('--confirm prod');
    expect((await failure(engine.call('sets.delete', { env: 'prod', set: ids[3]! }))).code).toBe('CONFIRMATION_REQUIRED');
    expect(setFolders(location)).toEqual(before);
    expect((await engine.call('sets.prune', { env: 'prod', dryRun: true })).deleted).toEqual([]);
    const done = await engine.call('sets.prune', { env: 'prod', dryRun: false, confirm: 'prod' });
    expect(done.deleted.length).toBeGreaterThan(0);
  });
});

describe('pins', () => {
  it('a pinned set is never pruned, survives a catalog rebuild on a new workstation, and its drill sees no extra file', async () => {
    const { root, engine, location, ids } = await history({ retention: { keepLast: 2 } });
    const pinned = SetSummary.parse(await engine.call('sets.pin', { env: 'prod', set: ids[10]!, pinned: true }));
    expect(pinned).toMatchObject({ id: ids[10], pinned: true });
    expect(readdirSync(path.join(location, ids[10]!)).some((n) => n.includes('pin'))).toBe(false); // the sealed set is untouched

    const report = await engine.call('drill.run', { env: 'prod', set: ids[10]! });
    expect(report.checks.find((c) => c.name === 'no unexpected files')?.status).toBe('PASS');
    expect(report.passed).toBe(true);

    const pruned = await engine.call('sets.prune', { env: 'prod', dryRun: false });
    const decision = pruned.decisions.find((d) => d.id === ids[10])!;
    expect(decision).toMatchObject({ action: 'keep', pinned: true });
    expect(decision.reasons.map((r) => r.rule)).toContain('pinned');
    expect(existsSync(path.join(location, ids[10]!))).toBe(true);

    // A new workstation: a fresh catalog adopts the folder and finds the pin.
    const fresh = engineAt(path.join(root, 'home2'));
    await fresh.call('catalog.rebuild', { locations: [location] });
    const sets = await fresh.call('sets.list', { env: 'prod' });
    expect(sets.filter((s) => s.pinned).map((s) => s.id)).toEqual([ids[10]]);

    // Unpinned, the next prune may take it.
    expect((await fresh.call('sets.pin', { env: 'prod', set: ids[10]!, pinned: false })).pinned).toBe(false);
    const after = await fresh.call('sets.prune', { env: 'prod', dryRun: true });
    expect(after.decisions.find((d) => d.id === ids[10])!.action).toBe('prune');
  });

  it('pin and unpin on the command line; an unknown set is named', async () => {
    const { home, ids } = await history();
    const pin = await runCli(['pin', '--env', 'prod', '--set', ids[2]!], home);
    expect(pin.code, pin.stderr).toBe(0);
    expect(pin.stdout.trim()).toBe(`Pinned ${ids[2]}.`);
    const list = jsonOf<SetSummary[]>(await runCli(['list', '--env', 'prod', '--json'], home));
    expect(list.find((s) => s.id === ids[2])!.pinned).toBe(true);
    const unpin = await runCli(['unpin', '--env', 'prod', '--set', ids[2]!], home);
    expect(unpin.stdout.trim()).toBe(`Unpinned ${ids[2]}.`);
    const unknown = await runCli(['pin', '--env', 'prod', '--set', 'shop_prod_19990101_000000'], home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('There is no set shop_prod_19990101_000000');
  });
});

describe('delete', () => {
  it('deletes one set, refuses a pinned one with the way out, and logs both', async () => {
    const { engine, location, ids } = await history();
    await engine.call('sets.pin', { env: 'prod', set: ids[4]!, pinned: true });
    const refused = await failure(engine.call('sets.delete', { env: 'prod', set: ids[4]! }));
    expect(refused).toEqual({ code: 'SET_PINNED', message: `${ids[4]} is pinned, so it is never deleted.`, hint: `Unpin it first (lifeboat unpin --env prod --set ${ids[4]}), then delete it.` });
    expect(existsSync(path.join(location, ids[4]!))).toBe(true);

    const r = DeleteResult.parse(await engine.call('sets.delete', { env: 'prod', set: ids[5]! }));
    expect(r.deleted.id).toBe(ids[5]);
    expect(r.deleted.sizeBytes).toBeGreaterThan(300_000);
    expect(existsSync(path.join(location, ids[5]!))).toBe(false);
    expect((await engine.call('sets.list', { env: 'prod' })).some((s) => s.id === ids[5])).toBe(false);
    const log = await engine.call('activity.list', { env: 'prod', limit: 3 });
    expect(log.slice(0, 2).map((a) => [a.action, a.outcome])).toEqual([
      ['delete', 'success'],
      ['delete', 'refused'],
    ]);
  });

  it('a deletion cut short leaves a hidden folder that never looks like a set, and the next run removes it', async () => {
    const { engine, home, location, ids } = await history({ retention: { keepLast: 30 } });
    // What a crash between the rename and the removal leaves behind.
    renameSync(path.join(location, ids[7]!), path.join(location, `.deleting-${ids[7]}`));
    expect((await engine.call('sets.list', { env: 'prod' })).some((s) => s.id === ids[7])).toBe(false);
    const r = await runCli(['delete', '--env', 'prod', '--set', ids[8]!], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Cleaned up the rest of ${ids[7]}, whose deletion was interrupted.`);
    expect(r.stdout).toContain(`Deleted ${ids[8]}`);
    expect(readdirSync(location).filter((n) => n.startsWith('.deleting-'))).toEqual([]);
  });
});

describe("retention preview (the editor's live count)", () => {
  it('decides a proposed policy as a dry run would once saved, and deletes and saves nothing', async () => {
    const { engine, location } = await history({ retention: { keepLast: 3 } });
    const before = setFolders(location);
    const proposed = { keepLast: 2, weekly: 2 };
    const preview = PruneResult.parse(await engine.call('retention.preview', { env: 'prod', retention: proposed }));
    expect(setFolders(location)).toEqual(before);
    expect(preview.decisions).toHaveLength(21);
    expect(preview.summary).toMatch(/^A prune would delete \d+ of 21 sets/);
    // The saved policy is untouched; saved as proposed, a dry run decides exactly the same.
    expect((await engine.call('env.get', { env: 'prod' })).retention).toEqual({ keepLast: 3, safetyKeepDays: 7 });
    expect((await engine.call('sets.prune', { env: 'prod', dryRun: true })).decisions).not.toEqual(preview.decisions);
    const env = await engine.call('env.get', { env: 'prod' });
    await engine.call('env.save', { environment: { ...env, retention: proposed } });
    expect((await engine.call('sets.prune', { env: 'prod', dryRun: true })).decisions).toEqual(preview.decisions);
    expect((await engine.call('activity.list', { env: 'prod' })).filter((a) => a.action === 'prune')).toEqual([]);

    const bad = await failure(engine.call('retention.preview', { env: 'prod', retention: { daily: -1 } }));
    expect(bad.code).toBe('BAD_ARGUMENT');
    expect(bad.message).toMatch(/retention\.daily: use 0 or more/);
  });
});
