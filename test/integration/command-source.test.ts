import { execSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvironmentInput } from '../../shared/environment.js';
import type { Manifest } from '../../shared/manifest.js';
import type { RestorePreview, RestoreResult } from '../../shared/restore.js';
import { drillStep, PYTHON, useDjango, type DjangoProject } from '../support/django.js';
import { useEngines } from '../support/engine.js';
import { failure, gunzipTo, jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const tempDir = useTempDirs();
const engineAt = useEngines();
const django = useDjango();

/** The operator's own commands, as seed 000 runs them by hand: dumpdata to stdout, loaddata from stdin. */
function environment(
  root: string,
  site: DjangoProject,
  dump: string[] = ['dumpdata', 'catalog', '--natural-foreign', '--natural-primary', '--indent', '2'],
  more: { drill?: Step; reset?: Step } = {},
): EnvironmentInput {
  return {
    name: 'prod',
    app: 'iir',
    protection: 'protected',
    location: path.join(root, 'sets'),
    sources: [
      {
        kind: 'command',
        name: 'dictionary',
        format: 'django-fixture',
        dump: { argv: [PYTHON, 'manage.py', ...dump], cwd: site.dir },
        restore: { argv: [PYTHON, 'manage.py', 'loaddata', '--format=json', '-'], cwd: site.dir },
        timeoutSeconds: 120,
        ...more,
      },
    ],
  };
}

type Step = { argv: string[]; cwd?: string; env?: Record<string, string> };

/** The README's reset recipe: `flush` empties every table, so the dump is of the whole database. */
const flush = (site: DjangoProject): Step => ({ argv: [PYTHON, 'manage.py', 'flush', '--no-input'], cwd: site.dir });
const WHOLE_DATABASE = ['dumpdata', '--natural-foreign', '--natural-primary', '-e', 'contenttypes', '-e', 'auth.Permission', '-e', 'sessions'];

/** What an operator does between the backup and the restore: three words deleted, one changed, one added. */
const CHANGE_SINCE =
  "from catalog.models import Word, Category; Word.objects.filter(pk=7).update(term='vandalised'); Word.objects.filter(pk__in=[1, 2, 3]).delete(); Word.objects.create(term='new since', category=Category.objects.get(name='Tools'))";

// Each test runs manage.py up to a dozen times (a restore alone: drill, preview, safety dump, reset,
// load, verifying dump); on a busy two-core machine that outlasts the default limit.
describe('command source with Django fixtures', { timeout: 480_000 }, () => {
  it('backs up through dumpdata, restores through loaddata: the changed and deleted rows are back', async () => {
    const root = tempDir();
    const site = django().copy(path.join(root, 'site'));
    const home = path.join(root, 'home');
    expect((await runCli(['env', 'import', writeEnvFile(root, environment(root, site))], home)).code).toBe(0);
    const b = await runCli(['backup', '--env', 'prod', '--json'], home);
    expect(b.code, b.stderr).toBe(0);
    const set = jsonOf<{ id: string; path: string }>(b);
    const before = site.words();

    const manifest = JSON.parse(readFileSync(path.join(set.path, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.artifacts[0]).toMatchObject({
      file: 'dictionary.out.gz',
      kind: 'command',
      compression: 'gzip',
      details: {
        type: 'command-output',
        format: 'django-fixture',
        models: [
          { name: 'catalog.category', rows: 3 },
          { name: 'catalog.word', rows: 60 },
        ],
      },
    });
    // The artifact is the command's output exactly: gunzip gives a fixture loaddata reads.
    const plain = path.join(root, 'dictionary.json');
    gunzipTo(path.join(set.path, 'dictionary.out.gz'), plain);
    expect(JSON.parse(readFileSync(plain, 'utf8'))[0]).toEqual({ model: 'catalog.category', fields: { name: 'Animals' } });
    expect(readFileSync(path.join(set.path, 'RESTORE.txt'), 'utf8')).toContain(`loaddata --format=json -) < dictionary.json`);

    const drill = await runCli(['drill', '--env', 'prod'], home);
    expect(drill.code, drill.stdout).toBe(0);
    expect(drill.stdout).toContain('objects per model as recorded');

    site.manage(['shell', '-c', CHANGE_SINCE]);
    expect(site.words()).not.toBe(before);

    const dry = jsonOf<RestorePreview>(await runCli(['restore', '--env', 'prod', '--set', set.id, '--dry-run', '--json'], home));
    expect(dry.sources[0]).toMatchObject({
      type: 'tables',
      tables: [
        { name: 'catalog.category', now: 3, inSet: 3 },
        { name: 'catalog.word', now: 58, inSet: 60 },
      ],
    });
    expect(dry.preflight.find((c) => c.name === 'not in use')?.status).toBe('WARN');
    expect(dry.ready).toBe(true);
    // Without a reset command the preview says, before anything runs, that this restore merges and what undo cannot do.
    expect(dry.sources[0]!.type === 'tables' && dry.sources[0]!.loading).toMatchObject({ reset: null, merges: 'yes', note: expect.stringContaining('does not remove objects this restore adds') });

    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--confirm', 'prod', '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    const result = jsonOf<RestoreResult>(r);
    // loaddata adds and updates: every row of the set is back, the word added since is kept, and the report says so.
    const now = site.words();
    expect(now.startsWith(before)).toBe(true);
    expect(now.slice(before.length)).toMatch(/^\n61\|new since\|Tools\|$/);
    expect(result.verification.map((c) => `${c.name}: ${c.status}`)).toEqual(['every object of the set is back, field for field: PASS', 'no objects beyond the set: WARN']);
    expect(result.safetySet).not.toBeNull();
    // …and the result does not offer a full undo.
    expect(result.undoLimits).toEqual([{ source: 'dictionary', reason: expect.stringContaining('does not remove the objects this restore added') }]);
    const safety = JSON.parse(readFileSync(path.join(result.safetySet!.path, 'manifest.json'), 'utf8')) as Manifest;
    expect(safety.label).toBe('pre-restore');
    expect(safety.artifacts[0]!.details).toMatchObject({
      models: [
        { name: 'catalog.category', rows: 3 },
        { name: 'catalog.word', rows: 58 },
      ],
    });
  });

  it('a restore test writes the fixture into a folder and runs nothing', async () => {
    const root = tempDir();
    const site = django().copy(path.join(root, 'site'));
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: environment(root, site) });
    const backup = await engine.call('backup.run', { env: 'prod' });
    site.manage(['shell', '-c', 'from catalog.models import Word; Word.objects.all().delete()']);
    const to = path.join(root, 'restored');
    const result = await engine.call('restore.run', { env: 'prod', set: backup.id, to });
    expect(result.targets[0]!.path).toBe(path.join(to, 'dictionary', 'dictionary.json'));
    expect(JSON.parse(readFileSync(result.targets[0]!.path, 'utf8')).length).toBe(63);
    expect(site.manage(['shell', '-c', 'from catalog.models import Word; print(Word.objects.count())']).trim()).toBe('0');
  });

  it('a dump command that exits non-zero produces no set and shows its stderr', async () => {
    const root = tempDir();
    const site = django().copy(path.join(root, 'site'));
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: environment(root, site, ['dumpdata', 'no_such_app']) });
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code).toBe('COMMAND_FAILED');
    expect(err.message).toContain('exited with status 1');
    expect(err.message).toContain('no_such_app');
    expect((await engine.call('sets.list', { env: 'prod' })).length).toBe(0);
    expect(readdirSync(path.join(root, 'sets')).filter((n) => !n.startsWith('.lifeboat-'))).toEqual([]);
  });

  it('output that is not a fixture, empty output and a missing program are refused with what to do', async () => {
    const root = tempDir();
    const site = django().copy(path.join(root, 'site'));
    const engine = engineAt(path.join(root, 'home'));
    const cases: [string, string[], string, string][] = [
      ['notjson', [PYTHON, '-c', 'print("Migrations pending!")'], 'COMMAND_FAILED', 'not a Django JSON fixture'],
      ['empty', [PYTHON, '-c', 'pass'], 'COMMAND_FAILED', 'printed nothing'],
      ['missing', ['no-such-program-lifeboat'], 'TOOL_MISSING', 'not found on the PATH'],
    ];
    for (const [name, argv, code, says] of cases) {
      const env = environment(root, site);
      const source = env.sources[0] as Extract<(typeof env.sources)[number], { kind: 'command' }>;
      await engine.call('env.save', { environment: { ...env, name, sources: [{ ...source, dump: { argv, cwd: site.dir } }] } });
      const err = await failure(engine.call('backup.run', { env: name }));
      expect(err.code, name).toBe(code);
      expect(err.message, name).toContain(says);
    }
    expect(existsSync(path.join(root, 'sets')) ? readdirSync(path.join(root, 'sets')).filter((n) => !n.startsWith('.lifeboat-')) : []).toEqual([]);
  });

  it('a restore command that is not installed refuses the restore in the pre-flight, before the safety backup', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'live'));
    const file = path.join(root, 'live', 'notes.txt');
    writeFileSync(file, 'data\n');
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', {
      environment: {
        name: 'prod',
        app: 'notes',
        location: path.join(root, 'sets'),
        sources: [{ kind: 'command', name: 'notes', dump: { argv: ['cat', file] }, restore: { argv: ['lifeboat-no-such-loader', file] } }],
      },
    });
    const backup = await engine.call('backup.run', { env: 'prod' });
    const preview = await engine.call('restore.preview', { env: 'prod', set: backup.id });
    expect(preview.preflight.find((c) => c.name === 'restore programs ready')).toMatchObject({ status: 'FAIL', reason: expect.stringContaining('lifeboat-no-such-loader') });
    const err = await failure(engine.call('restore.run', { env: 'prod', set: backup.id }));
    expect(err.code).toBe('TOOL_MISSING');
    expect((await engine.call('sets.list', { env: 'prod' })).map((s) => s.label)).toEqual([null]);
  });

  it('a restore command that fails after writing part of the set is undone from the safety set', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'live'));
    const file = path.join(root, 'live', 'notes.txt');
    writeFileSync(file, 'BAD line kept at backup time\n');
    // The operator's restore writes everything it reads, then refuses what it wrote: a command that stops half-way.
    const restore = ['sh', '-c', 'tee "$0" >/dev/null; if grep -q BAD "$0"; then echo "refusing BAD data" >&2; exit 3; fi', file];
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', {
      environment: { name: 'prod', app: 'notes', location: path.join(root, 'sets'), sources: [{ kind: 'command', name: 'notes', dump: { argv: ['cat', file] }, restore: { argv: restore } }] },
    });
    const backup = await engine.call('backup.run', { env: 'prod' });
    writeFileSync(file, 'good line written later\n');
    const err = await failure(engine.call('restore.run', { env: 'prod', set: backup.id }));
    expect(err.code).toBe('RESTORE_FAILED');
    expect(err.message).toContain('exited with status 3');
    expect(err.message).toContain('refusing BAD data');
    expect(readFileSync(file, 'utf8')).toBe('good line written later\n');
    const activity = await engine.call('activity.list', { env: 'prod' });
    expect(activity[0]).toMatchObject({ action: 'restore', outcome: 'failed' });
  });

  it('the drill loads the fixture with its drill command into a scratch database; one that cannot load FAILs, and the restore is refused', async () => {
    const root = tempDir();
    const site = django().copy(path.join(root, 'site'));
    const engine = engineAt(path.join(root, 'home'));
    const drill = drillStep(site);
    await engine.call('env.save', { environment: environment(root, site, undefined, { drill }) });
    const sound = await engine.call('backup.run', { env: 'prod' });
    // The drill loads into its own database: the live one, emptied now, stays empty.
    site.manage(['shell', '-c', 'from catalog.models import Word; Word.objects.all().delete()']);
    const good = await engine.call('drill.run', { env: 'prod' });
    expect(good.passed).toBe(true);
    expect(good.checks.find((c) => c.name === 'drill command loads the output')).toMatchObject({ status: 'PASS', reason: expect.stringContaining('Installed 63 object(s)') });
    expect(site.words()).toBe('');
    // The recovery card gives the same check to run by hand, in a copy of the set.
    const copy = path.join(root, 'by-hand');
    cpSync(sound.path, copy, { recursive: true });
    const card = readFileSync(path.join(copy, 'RESTORE.txt'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    const byHand = card.filter((l) => l.startsWith('gunzip -c dictionary.out.gz') || l.startsWith('mkdir dictionary-drill'));
    expect(byHand).toHaveLength(2);
    expect(execSync(byHand.join(' && '), { cwd: copy, shell: '/bin/bash', encoding: 'utf8' })).toContain('Installed 63 object(s)');
    expect(existsSync(path.join(copy, 'dictionary-drill', 'drill.sqlite3'))).toBe(true);
    expect(site.words()).toBe('');

    // A fixture that parses and counts, but whose word points at a category that exists nowhere.
    const broken =
      "import json; print(json.dumps([{'model': 'catalog.category', 'fields': {'name': 'Animals'}}, {'model': 'catalog.word', 'pk': 1, 'fields': {'term': 'stone', 'category': ['Minerals'], 'note': ''}}]))";
    const env = environment(root, site, undefined, { drill });
    const source = env.sources[0] as Extract<(typeof env.sources)[number], { kind: 'command' }>;
    await engine.call('env.save', { environment: { ...env, name: 'broken', sources: [{ ...source, dump: { argv: [PYTHON, '-c', broken], cwd: site.dir } }] } });
    const set = await engine.call('backup.run', { env: 'broken' });
    const report = await engine.call('drill.run', { env: 'broken' });
    expect(report.checks.filter((c) => c.status === 'PASS').map((c) => c.name)).toEqual(expect.arrayContaining(['Django fixture parses', 'objects per model as recorded']));
    const failed = report.checks.filter((c) => c.status === 'FAIL');
    expect(failed.map((c) => c.name)).toEqual(['drill command loads the output']);
    expect(failed[0]!.reason).toContain('exited with status 1');
    expect(failed[0]!.reason).toContain("Problem installing fixture '-': Could not load catalog.Word(pk=1)");
    expect(report.passed).toBe(false);

    // The restore's own fresh drill refuses it before the safety backup: nothing is changed.
    site.manage(['loaddata', 'initial']);
    const live = site.words();
    const err = await failure(engine.call('restore.run', { env: 'broken', set: set.id, confirm: 'broken' }));
    expect(err.code).toBe('SET_FAILED_DRILL');
    expect(site.words()).toBe(live);
    expect((await engine.call('sets.list', { env: 'broken' })).map((s) => s.label)).toEqual([null]);
  });

  it('with a reset command the restore leaves exactly the set, and undoing it exactly the safety set', async () => {
    const root = tempDir();
    const site = django().copy(path.join(root, 'site'));
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: environment(root, site, WHOLE_DATABASE, { reset: flush(site) }) });
    const set = await engine.call('backup.run', { env: 'prod' });
    expect(readFileSync(path.join(set.path, 'RESTORE.txt'), 'utf8')).toContain(`(cd ${site.dir} && ${PYTHON} manage.py flush --no-input) < /dev/null`);
    const atBackup = site.words();
    site.manage(['shell', '-c', CHANGE_SINCE]);
    const beforeRestore = site.words();

    const preview = await engine.call('restore.preview', { env: 'prod', set: set.id });
    expect(preview.sources[0]!.type === 'tables' && preview.sources[0]!.loading).toMatchObject({ reset: [PYTHON, 'manage.py', 'flush', '--no-input'], merges: 'no' });
    const result = await engine.call('restore.run', { env: 'prod', set: set.id, confirm: 'prod' });
    // Exactly the set: the word added since is gone, and nothing is left to warn about.
    expect(site.words()).toBe(atBackup);
    expect(result.verification.map((c) => `${c.name}: ${c.status}`)).toEqual(['every object of the set is back, field for field: PASS', 'no objects beyond the set: PASS']);
    expect(result.undoLimits).toEqual([]);

    // Undo, as the wizard offers it: the safety set, loaded after the reset; the words the restore brought back are gone again.
    await engine.call('restore.run', { env: 'prod', set: result.safetySet!.id, confirm: 'prod' });
    expect(site.words()).toBe(beforeRestore);
    expect(site.words()).not.toMatch(/^[123]\|/m);
    expect(site.words()).toContain('61|new since|Tools|');
  });

  it('with a reset command, a restore whose load fails after the reset is put back exactly from the safety set', async () => {
    const root = tempDir();
    const site = django().copy(path.join(root, 'site'));
    const engine = engineAt(path.join(root, 'home'));
    const env = environment(root, site, WHOLE_DATABASE, { reset: flush(site) });
    await engine.call('env.save', { environment: env });
    const set = await engine.call('backup.run', { env: 'prod' });
    site.manage(['shell', '-c', CHANGE_SINCE]);
    const beforeRestore = site.words();
    // The operator's restore loads, then a check of its own refuses word 1 (in the set, not in the safety set).
    const source = env.sources[0] as Extract<(typeof env.sources)[number], { kind: 'command' }>;
    const refuse = "import sys; from catalog.models import Word; sys.exit('refusing: word 1 is back' if Word.objects.filter(pk=1).exists() else 0)";
    const restore = { argv: ['sh', '-c', `${PYTHON} manage.py loaddata --format=json - && exec ${PYTHON} manage.py shell -c "$0"`, refuse], cwd: site.dir };
    // Another restore command on a protected environment is confirmed like any change of where a restore writes.
    await engine.call('env.save', { environment: { ...env, sources: [{ ...source, restore }] }, confirm: 'prod' });
    const err = await failure(engine.call('restore.run', { env: 'prod', set: set.id, confirm: 'prod' }));
    expect(err.code).toBe('RESTORE_FAILED');
    expect(err.message).toContain('refusing: word 1 is back');
    expect(err.message).not.toContain('also failed');
    // Put back through reset then load: the words the failed restore brought back are not left behind.
    expect(site.words()).toBe(beforeRestore);
  });
});
