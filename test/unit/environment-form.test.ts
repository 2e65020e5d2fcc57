import { describe, expect, it } from 'vitest';
import { Environment, type EnvironmentInput } from '../../shared/environment.js';
import { blankForm, formOf as formWith, toEnvironmentInput } from '../../renderer/src/lib/environment-form.js';
import { kindDescriptions } from '../../electron/engine/sources/index.js';

/** The editor's form with the kinds the engine describes (what `kinds.list` answers). */
const formOf = (env: Environment) => formWith(env, kindDescriptions());

/** An environment as `env.get` hands it to the editor: parsed, defaults filled in. */
const loaded = (extra: Partial<EnvironmentInput> = {}) =>
  Environment.parse({
    app: 'shop',
    name: 'prod',
    location: '/mnt/backups/shop',
    sources: [
      { kind: 'sqlite', name: 'db', path: '/srv/shop/shop.db' },
      {
        kind: 'command',
        name: 'fixture',
        dump: { argv: ['python3', 'manage.py', 'dumpdata'], cwd: '/srv/shop', env: { A: 'x=y' } },
        restore: { argv: ['python3', 'manage.py', 'loaddata', '-'], cwd: '/srv/other' },
      },
    ],
    ...extra,
  });

describe('the editor form', () => {
  it('reads every schedule preset the engine knows, and saves an untouched one exactly as it was written', () => {
    const cases: [string, string][] = [
      ['hourly', 'hourly'],
      ['daily 02:00', 'daily'],
      ['Daily 2:05', 'daily'],
      ['daily', 'daily'],
      ['weekly fri 23:15', 'weekly'],
      ['weekly monday 02:00', 'weekly'],
      ['monthly 15 04:30', 'monthly'],
      ['monthly 31 04:30', 'cron'],
      ['daily 25:00', 'cron'],
      ['*/30 6-22 * * 1-5', 'cron'],
    ];
    for (const [at, preset] of cases) {
      const form = formOf(loaded({ schedule: { at } }));
      expect(form.schedule.preset, at).toBe(preset);
      expect((toEnvironmentInput(form).input.schedule as { at: string }).at, at).toBe(at);
    }
  });

  it('changes only the field the operator changed', () => {
    const env = loaded({ schedule: { at: 'weekly monday 02:00', timezone: 'UTC' }, retention: { keepLast: 5 }, alerts: { minFreeBytes: 5_368_709_120 } });
    const untouched = toEnvironmentInput(formOf(env)).input;
    expect(untouched).toEqual(JSON.parse(JSON.stringify(env)));

    const form = formOf(env);
    form.schedule.time = '03:30';
    form.retention.daily = '7';
    form.sources[1]!.values['restore.cwd'] = '';
    const { input, problems } = toEnvironmentInput(form);
    expect(problems).toEqual({});
    expect(input).toEqual({
      ...untouched,
      schedule: { ...env.schedule, at: 'weekly mon 03:30' },
      retention: { ...env.retention, daily: 7 },
      sources: [env.sources[0], { ...env.sources[1], restore: { argv: ['python3', 'manage.py', 'loaddata', '-'], env: {} } }],
    });
  });

  it('turns sections on and off, and names what is not a number or not NAME=value', () => {
    const form = formOf(loaded({ schedule: { at: 'hourly' }, retention: {} }));
    form.schedule.on = false;
    form.retention.on = false;
    form.alerts.sizeFactor = '1,5';
    form.sources[1]!.values['dump.env'] = 'A=x=y\nNOEQUALS';
    const { input, problems } = toEnvironmentInput(form);
    expect(input.schedule).toBeUndefined();
    expect(input.retention).toBeUndefined();
    expect(problems).toEqual({ 'alerts.sizeFactor': expect.stringMatching(/give a number/), 'sources[1].dump.env': expect.stringMatching(/NAME=value/) });

    const fresh = blankForm(kindDescriptions());
    fresh.schedule.on = true;
    fresh.retention.on = true;
    fresh.alerts.minFreeGb = '2.5';
    const made = toEnvironmentInput(fresh).input;
    expect(made.schedule).toEqual({ at: 'daily 02:00', drillAfter: true, pruneAfter: false, graceMinutes: 60 });
    expect(made.retention).toEqual({ daily: 7, weekly: 4, monthly: 12, safetyKeepDays: 7 });
    expect(made.alerts).toEqual({ minFreeBytes: 2_500_000_000 });
  });

  it('starts a source afresh when its kind changes, so no field of the old kind is sent', () => {
    const form = formOf(loaded());
    form.sources[1]!.kind = 'sqlite';
    form.sources[1]!.values.path = '/srv/shop/other.db';
    expect((toEnvironmentInput(form).input.sources as unknown[])[1]).toEqual({ kind: 'sqlite', name: 'fixture', path: '/srv/shop/other.db' });
  });
});
