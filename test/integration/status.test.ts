import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatusResult } from '../../shared/status.js';
import { EnvironmentSummary } from '../../shared/api.js';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { copySetAt } from '../support/history.js';
import { jsonOf, runCli, useTempDirs } from '../support/tools.js';

const temp = useTempDirs();
const engineAt = useEngines();
const DAY = 86_400_000;

/** Two environments over one live folder: `good` (backed up and drilled) and `late` (scheduled hourly, never backed up). */
async function setup() {
  const root = temp();
  makeLiveData(root);
  const home = path.join(root, 'home');
  const engine = engineAt(home);
  await engine.call('env.save', { environment: demoEnvironment(root, { name: 'good', protection: 'normal', location: path.join(root, 'sets-good'), alerts: { minFreePercent: 0 } }) });
  await engine.call('backup.run', { env: 'good' });
  await engine.call('drill.run', { env: 'good' });
  await engine.call('env.save', {
    environment: demoEnvironment(root, {
      name: 'late',
      protection: 'normal',
      location: path.join(root, 'sets-late'),
      schedule: { at: 'hourly', timezone: 'UTC', graceMinutes: 0 },
      alerts: { minFreePercent: 0 },
    }),
  });
  return { root, home, engine };
}

describe('lifeboat status', () => {
  it('exits 0 when everything is fine and 1 when anything is overdue, with the alert and what to do', async () => {
    const { home } = await setup();
    const good = await runCli(['status', '--env', 'good'], home);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^shop\/good +OK {4}last backup .* · last drill PASS /m);

    const all = await runCli(['status'], home);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/^shop\/late +FAIL {2}no backup yet · never drilled · next /m);
    expect(all.stdout).toMatch(/^ {2}FAIL {2}Backup overdue: There is no successful backup yet; the schedule, every hour, on the hour \(UTC\), expected one at .* UTC, .* ago\.$/m);
    expect(all.stdout).toMatch(/^ {8}Back up now \(lifeboat backup --env late\)/m);

    const json = StatusResult.parse(jsonOf(await runCli(['status', '--json'], home)));
    expect(json.level).toBe('fail');
    expect(json.environments.map((e) => [e.env, e.level, e.alerts.map((a) => a.code)])).toEqual([
      ['shop/good', 'ok', []],
      ['shop/late', 'fail', ['OVERDUE']],
    ]);

    // The sidebar's dot comes with env.list.
    const list = jsonOf<EnvironmentSummary[]>(await runCli(['env', 'list', '--json'], home));
    expect(list.map((e) => [e.key, EnvironmentSummary.parse(e).health])).toEqual([
      ['shop/good', { level: 'ok', alerts: 0 }],
      ['shop/late', { level: 'fail', alerts: 1 }],
    ]);
  });

  it('--prometheus writes the node-exporter textfile atomically, one line per environment and value', async () => {
    const { root, home, engine } = await setup();
    const good = (await engine.call('status.get', { env: 'good' })).environments[0]!;
    const dir = path.join(root, 'textfile');
    mkdirSync(dir);
    const file = path.join(dir, 'lifeboat.prom');
    const r = await runCli(['status', '--prometheus', file], home);
    expect(r.code).toBe(1);
    expect(readdirSync(dir)).toEqual(['lifeboat.prom']); // no temporary file left beside it
    const text = readFileSync(file, 'utf8');
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples).toEqual([
      'lifeboat_health{env="shop/good"} 0',
      'lifeboat_health{env="shop/late"} 2',
      'lifeboat_alerts{env="shop/good"} 0',
      'lifeboat_alerts{env="shop/late"} 1',
      'lifeboat_overdue{env="shop/good"} 0',
      'lifeboat_overdue{env="shop/late"} 1',
      `lifeboat_last_success_timestamp_seconds{env="shop/good"} ${Date.parse(good.lastSet!.finishedAt) / 1000}`,
      `lifeboat_last_size_bytes{env="shop/good"} ${good.lastSet!.sizeBytes}`,
      `lifeboat_last_duration_seconds{env="shop/good"} ${good.lastSet!.durationMs / 1000}`,
      'lifeboat_last_drill_success{env="shop/good"} 1',
      `lifeboat_last_drill_timestamp_seconds{env="shop/good"} ${Date.parse(good.lastDrill!.at) / 1000}`,
    ]);
    expect(text).toContain('# TYPE lifeboat_last_success_timestamp_seconds gauge\n');
    // Every sample line has the exposition format's shape.
    for (const l of samples) expect(l).toMatch(/^[a-z_]+\{env="[^"]+"\} -?\d+(\.\d+)?(e[+-]?\d+)?$/);
  });

  it('a set much smaller than the last ten shows on the chart series and as an alert', async () => {
    const { root, engine } = await setup();
    const first = (await engine.call('sets.list', { env: 'good' }))[0]!;
    for (let d = 1; d <= 10; d++) copySetAt(first.path, new Date(Date.now() - d * DAY));
    rmSync(path.join(root, 'live', 'assets', 'images'), { recursive: true }); // most of the bytes
    const small = await engine.call('backup.run', { env: 'good' });
    const status = (await engine.call('status.get', { env: 'good' })).environments[0]!;
    expect(status.series).toHaveLength(12);
    const point = status.series.at(-1)!;
    expect(point.id).toBe(small.id);
    expect(point.anomalies).toEqual([{ kind: 'size', message: expect.stringMatching(/^\d+% smaller than the median of the last 10 \(.* against .*\)$/) }]);
    expect(status.alerts.map((a) => a.code)).toContain('SIZE_ANOMALY');
    expect(status.alerts.find((a) => a.code === 'SIZE_ANOMALY')!.hint).toContain('Check that the sources still hold all their data');
  });
  it('a backup location that went away (an unmounted disk) fails the status, and its sets are not forgotten', async () => {
    const { root, home } = await setup();
    const sets = path.join(root, 'sets-good');
    const id = readdirSync(sets).find((n) => n.startsWith('shop_good_'))!;
    renameSync(sets, path.join(root, 'elsewhere'));

    const gone = await runCli(['status', '--env', 'good', '--json'], home);
    expect(gone.code).toBe(1);
    const status = StatusResult.parse(jsonOf(gone)).environments[0]!;
    expect(status.alerts.map((a) => [a.code, a.severity])).toEqual([['LOCATION_MISSING', 'fail']]);
    expect(status.alerts[0]!.message).toContain(`The backup location ${sets} is missing or cannot be read, though 1 set was recorded there.`);
    const list = await runCli(['list', '--env', 'good'], home);
    expect(list.code).not.toBe(0);
    expect(list.stderr).toContain(`The backup location ${sets} cannot be listed (ENOENT), though 1 set was recorded there.`);
    expect(list.stderr).toContain('Mount the disk that holds it');
    // A backup does not make a fresh folder in its place (it would be on the wrong disk).
    const backup = await runCli(['backup', '--env', 'good'], home);
    expect(backup.code).not.toBe(0);
    expect(backup.stderr).toContain(`The backup location ${sets} cannot be listed (ENOENT), though 1 set was recorded there.`);
    expect(existsSync(sets)).toBe(false);
    // A rescan names the missing folder and still rescans the others; it forgets nothing.
    const rebuild = await runCli(['catalog', 'rebuild'], home);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toContain(`Could not read ${sets}: The backup location ${sets} cannot be listed (ENOENT)`);
    expect(rebuild.stdout).toMatch(/Catalog rebuilt: 2 environments, 1 set \(0 added, 0 no longer on disk\)/);

    // The disk is back: the same set, nothing to re-adopt.
    renameSync(path.join(root, 'elsewhere'), sets);
    expect((await runCli(['list', '--env', 'good'], home)).stdout).toContain(id);
    // The refused backup is still the last attempt until the next one succeeds.
    const after = StatusResult.parse(jsonOf(await runCli(['status', '--env', 'good', '--json'], home))).environments[0]!;
    expect(after.alerts.map((a) => a.code)).toEqual(['LAST_BACKUP_FAILED']);
    expect((await runCli(['backup', '--env', 'good'], home)).code).toBe(0);
    expect((await runCli(['status', '--env', 'good'], home)).code).toBe(0);
  });
});
