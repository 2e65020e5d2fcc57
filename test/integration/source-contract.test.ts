import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../../shared/drill.js';
import type { EnvironmentInput } from '../../shared/environment.js';
import { RestorePreview, RestoreResult } from '../../shared/restore.js';
import { DrillReport as DrillReportSchema } from '../../shared/drill.js';
import { makeAppDb, makeAssets, treeFingerprint } from '../support/data.js';
import { PYTHON, useDjango } from '../support/django.js';
import { useEngines } from '../support/engine.js';
import { PG_PASSWORD, PG_PASSWORD_ENV, PG_USER, usePostgres } from '../support/postgres.js';
import { resealArtifact } from '../support/reseal.js';
import { failure, sqlite3, useTempDirs } from '../support/tools.js';

/**
 * The same cases for every source kind: capture then a drill that proves more than bytes; a
 * flipped or truncated artifact named by the drill, also when its manifest was made to agree;
 * a preview; a restore that brings the data back; bad input refused with a clear error.
 */
const tempDir = useTempDirs();
const engineAt = useEngines();
const server = usePostgres();
const django = useDjango(40);
process.env[PG_PASSWORD_ENV] = PG_PASSWORD;

type SourceInput = EnvironmentInput['sources'][number];

interface Live {
  source: SourceInput;
  /** The artifact holding the data, which the damage cases break. */
  artifact: string;
  /** What an operator compares: rows or bytes. */
  state(): string;
  /** Changes the live data the way a bad day would. */
  change(): void;
}

interface Kind {
  name: string;
  make(root: string): Live;
  /** A source that cannot be backed up, and the code it is refused with. */
  bad(root: string): { source: SourceInput; code: string };
}

const kinds: Kind[] = [
  {
    name: 'sqlite',
    make: (root) => {
      const db = path.join(root, 'live', 'app.db');
      makeAppDb(db, { rows: 120, wal: true });
      return {
        source: { kind: 'sqlite', name: 'data', path: db },
        artifact: 'data.sqlite.gz',
        state: () => sqlite3(db, '.dump'),
        change: () => void sqlite3(db, "DELETE FROM orders WHERE id < 30; INSERT INTO customers (name) VALUES ('mallory')"),
      };
    },
    bad: (root) => {
      writeFileSync(path.join(root, 'live', 'notes.txt'), 'not a database');
      return { source: { kind: 'sqlite', name: 'data', path: path.join(root, 'live', 'notes.txt') }, code: 'SOURCE_NOT_SQLITE' };
    },
  },
  {
    name: 'files',
    make: (root) => {
      const dir = path.join(root, 'live', 'assets');
      makeAssets(dir);
      return {
        source: { kind: 'files', name: 'data', path: dir },
        artifact: 'data.tar.gz',
        state: () => treeFingerprint(dir).join('\n'),
        change: () => writeFileSync(path.join(dir, 'notes.txt'), 'overwritten'),
      };
    },
    bad: (root) => ({ source: { kind: 'files', name: 'data', path: path.join(root, 'live', 'no-such-folder') }, code: 'SOURCE_MISSING' }),
  },
  {
    name: 'postgres',
    make: () => {
      const pg = server();
      const db = pg.createDatabase('contract');
      pg.sql(db, "CREATE TABLE items (id serial PRIMARY KEY, label text); INSERT INTO items (label) SELECT 'item ' || g FROM generate_series(1, 150) g;");
      return {
        source: { kind: 'postgres', name: 'data', host: pg.socketDir, port: pg.port, database: db, user: PG_USER, passwordEnv: PG_PASSWORD_ENV },
        artifact: 'data.dump',
        state: () => pg.sql(db, 'SELECT * FROM items ORDER BY id'),
        change: () => void pg.sql(db, "DELETE FROM items WHERE id % 3 = 0; UPDATE items SET label = 'changed' WHERE id = 1;"),
      };
    },
    bad: () => {
      const pg = server();
      return { source: { kind: 'postgres', name: 'data', host: pg.socketDir, port: pg.port, database: 'no_such_database', user: PG_USER, passwordEnv: PG_PASSWORD_ENV }, code: 'SOURCE_MISSING' };
    },
  },
  {
    name: 'command',
    make: (root) => {
      const file = path.join(root, 'live', 'notes.txt');
      writeFileSync(file, 'first line\nsecond line ✓\n'.repeat(200));
      // The operator's own programs: `cat` prints the data, `tee` writes what it reads back.
      return {
        source: { kind: 'command', name: 'data', dump: { argv: ['cat', file] }, restore: { argv: ['tee', file] } },
        artifact: 'data.out.gz',
        state: () => readFileSync(file, 'utf8'),
        change: () => writeFileSync(file, 'gone\n'),
      };
    },
    bad: (root) => ({ source: { kind: 'command', name: 'data', dump: { argv: ['lifeboat-no-such-program'] }, restore: { argv: ['tee', path.join(root, 'x')] } }, code: 'TOOL_MISSING' }),
  },
  {
    name: 'command (django-fixture)',
    make: (root) => {
      const site = django().copy(path.join(root, 'live', 'site'));
      return {
        source: {
          kind: 'command',
          name: 'data',
          format: 'django-fixture',
          dump: { argv: [PYTHON, 'manage.py', 'dumpdata', 'catalog', '--natural-foreign', '--natural-primary'], cwd: site.dir },
          restore: { argv: [PYTHON, 'manage.py', 'loaddata', '--format=json', '-'], cwd: site.dir },
        },
        artifact: 'data.out.gz',
        state: () => site.words(),
        change: () => void site.manage(['shell', '-c', "from catalog.models import Word; Word.objects.filter(pk__lte=5).delete(); Word.objects.filter(pk=9).update(term='changed')"]),
      };
    },
    bad: (root) => ({
      source: {
        kind: 'command',
        name: 'data',
        format: 'django-fixture',
        dump: { argv: [PYTHON, 'manage.py', 'dumpdata'], cwd: path.join(root, 'no-such-folder') },
        restore: { argv: [PYTHON, 'manage.py', 'loaddata', '-'] },
      },
      code: 'SOURCE_MISSING',
    }),
  },
];

function environment(root: string, source: SourceInput): EnvironmentInput {
  return { name: 'prod', app: 'contract', protection: 'protected', location: path.join(root, 'sets'), sources: [source] };
}

async function backedUp(kind: Kind) {
  const root = tempDir();
  mkdirSync(path.join(root, 'live'));
  const live = kind.make(root);
  const engine = engineAt(path.join(root, 'home'));
  await engine.call('env.save', { environment: environment(root, live.source) });
  const set = await engine.call('backup.run', { env: 'prod' });
  return { root, live, engine, set };
}

const checksOf = (r: DrillReport, file: string) => r.checks.filter((c) => c.target === file);
const failed = (r: DrillReport) => r.checks.filter((c) => c.status === 'FAIL').map((c) => c.target);

describe.each(kinds)('source contract: $name', (kind) => {
  it('capture, then a drill that passes and proves more than the bytes', async () => {
    const { live, engine, set } = await backedUp(kind);
    expect(set.artifacts.map((a) => a.file)).toContain(live.artifact);
    const report = DrillReportSchema.parse(await engine.call('drill.run', { env: 'prod', set: set.id }));
    expect(failed(report)).toEqual([]);
    expect(report.passed).toBe(true);
    const own = checksOf(report, live.artifact);
    expect(own.length).toBeGreaterThan(1);
    expect(own.filter((c) => c.name !== 'size and SHA-256 as recorded').every((c) => c.status === 'PASS')).toBe(true);
  });

  it('a flipped byte and a truncation are named by the drill, also when the manifest was made to agree', async () => {
    const { live, engine, set } = await backedUp(kind);
    const file = path.join(set.path, live.artifact);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x20;
    writeFileSync(file, bytes);
    const flipped = await engine.call('drill.run', { env: 'prod', set: set.id });
    expect(flipped.passed).toBe(false);
    expect(failed(flipped)).toContain(live.artifact);

    truncateSync(file, Math.floor(statSync(file).size / 2));
    resealArtifact(set.path, live.artifact);
    const resealed = await engine.call('drill.run', { env: 'prod', set: set.id });
    expect(checksOf(resealed, live.artifact).find((c) => c.name === 'size and SHA-256 as recorded')?.status).toBe('PASS');
    expect(resealed.passed).toBe(false);
    expect(failed(resealed)).toContain(live.artifact);
  });

  it('preview names the source and its target, and changes nothing', async () => {
    const { live, engine, set } = await backedUp(kind);
    live.change();
    const changed = live.state();
    const preview = RestorePreview.parse(await engine.call('restore.preview', { env: 'prod', set: set.id }));
    expect(preview.ready).toBe(true);
    expect(preview.needsConfirmation).toBe(true);
    expect(preview.sources.map((s) => [s.source, s.targetExists])).toEqual([['data', true]]);
    expect(preview.preflight.map((c) => c.name)).toEqual(expect.arrayContaining(['drill of the set', 'not in use', 'enough free space']));
    expect(preview.preflight.filter((c) => c.status === 'FAIL')).toEqual([]);
    expect(live.state()).toBe(changed);
  });

  it('restore brings the data back, verified, with a safety set of what it replaced', async () => {
    const { live, engine, set } = await backedUp(kind);
    const before = live.state();
    live.change();
    expect(live.state()).not.toBe(before);
    const unconfirmed = await failure(engine.call('restore.run', { env: 'prod', set: set.id }));
    expect(unconfirmed.code).toBe('CONFIRMATION_REQUIRED');
    const result = RestoreResult.parse(await engine.call('restore.run', { env: 'prod', set: set.id, confirm: 'prod' }));
    expect(live.state()).toBe(before);
    expect(result.verification.length).toBeGreaterThan(0);
    expect(result.verification.filter((c) => c.status === 'FAIL')).toEqual([]);
    expect(result.safetySet).not.toBeNull();
    expect((await engine.call('sets.list', { env: 'prod' })).find((s) => s.id === result.safetySet!.id)?.label).toBe('pre-restore');
  });

  it('bad input is refused with a code, a message and a hint, and leaves no set', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'live'));
    const { source, code } = kind.bad(root);
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: environment(root, source) });
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code, err.message).toBe(code);
    expect(err.message.length).toBeGreaterThan(10);
    expect(err.hint.length).toBeGreaterThan(10);
    expect(await engine.call('sets.list', { env: 'prod' })).toEqual([]);
  });
});
