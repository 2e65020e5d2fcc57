import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../shared/drill.js';
import type { EnvironmentInput } from '../../shared/environment.js';
import type { Manifest } from '../../shared/manifest.js';
import type { RestorePreview, RestoreResult } from '../../shared/restore.js';
import { useEngines } from '../support/engine.js';
import { PG_PASSWORD, PG_PASSWORD_ENV, PG_USER, usePostgres, type TestServer } from '../support/postgres.js';
import { resealArtifact } from '../support/reseal.js';
import { failure, jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const tempDir = useTempDirs();
const engineAt = useEngines();
const server = usePostgres();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
beforeAll(() => {
  process.env[PG_PASSWORD_ENV] = PG_PASSWORD;
});

/** A small ledger: accounts, entries with awkward text, and a table in its own schema with a quoted name. */
function makeLedger(pg: TestServer, db: string, rows = 400): void {
  pg.sql(
    db,
    `CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
     CREATE TABLE entries (id serial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), amount numeric(12,2) NOT NULL, memo text);
     CREATE SCHEMA audit;
     CREATE TABLE audit."Event Log" (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), what text);
     INSERT INTO accounts (name) SELECT 'account ' || g FROM generate_series(1, 20) g;
     INSERT INTO entries (account_id, amount, memo) SELECT 1 + g % 20, (g * 1.25)::numeric(12,2), E'line one\\nline\\ttwo ünïcode ✓ ' || g FROM generate_series(1, ${rows}) g;
     INSERT INTO audit."Event Log" (what) SELECT 'event ' || g FROM generate_series(1, 7) g;`,
  );
}

/** Every row of every table, in a fixed order: what an operator would call "the same data". */
function rowsOf(pg: TestServer, db: string): string {
  return ['accounts', 'entries', 'audit."Event Log"'].map((t) => pg.sql(db, `SELECT * FROM ${t} ORDER BY id`)).join('\n---\n');
}

function environment(root: string, pg: TestServer, db: string, extra: Record<string, unknown> = {}): EnvironmentInput {
  return {
    name: 'prod',
    app: 'ledgerflow',
    protection: 'protected',
    location: path.join(root, 'sets'),
    sources: [{ kind: 'postgres', name: 'ledger', host: pg.socketDir, port: pg.port, database: db, user: PG_USER, passwordEnv: PG_PASSWORD_ENV, connectTimeoutSeconds: 3, ...extra }],
  };
}

/** Changes the live data the way a bad day would. */
function damage(pg: TestServer, db: string): void {
  pg.sql(
    db,
    `UPDATE accounts SET name = 'hijacked' WHERE id = 3; DELETE FROM entries WHERE id <= 25; INSERT INTO accounts (name) VALUES ('mallory'); CREATE TABLE junk (x int); INSERT INTO junk VALUES (1), (2);`,
  );
}

async function ledgerSet(extra: Record<string, unknown> = {}) {
  const pg = server();
  const root = tempDir();
  const db = pg.createDatabase('ledger');
  makeLedger(pg, db);
  const home = path.join(root, 'home');
  const engine = engineAt(home);
  await engine.call('env.save', { environment: environment(root, pg, db, extra) });
  const backup = await engine.call('backup.run', { env: 'prod' });
  return { pg, root, db, home, engine, backup };
}

const failed = (r: DrillReport) => r.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.target}: ${c.name}`);

describe('postgres source', () => {
  it('round trip through the CLI: back up, change rows, preview, restore, rows equal; a safety set holds the changed rows', async () => {
    const pg = server();
    const root = tempDir();
    const db = pg.createDatabase('ledger');
    makeLedger(pg, db);
    const home = path.join(root, 'home');
    const env = { [PG_PASSWORD_ENV]: PG_PASSWORD };
    expect((await runCli(['env', 'import', writeEnvFile(root, environment(root, pg, db))], home, env)).code).toBe(0);
    const b = await runCli(['backup', '--env', 'prod', '--json'], home, env);
    expect(b.code, b.stderr).toBe(0);
    const set = jsonOf<{ id: string; path: string }>(b);
    const before = rowsOf(pg, db);

    // The dump is a plain pg_dump custom archive; the manifest's counts are the dump's snapshot.
    const manifest = JSON.parse(readFileSync(path.join(set.path, 'manifest.json'), 'utf8')) as Manifest;
    const artifact = manifest.artifacts[0]!;
    expect(artifact).toMatchObject({ file: 'ledger.dump', kind: 'postgres', compression: 'none' });
    if (artifact.details.type !== 'pg-dump') throw new Error('not a pg-dump artifact');
    expect(artifact.details.tables).toEqual([
      { name: 'audit.Event Log', rows: 7 },
      { name: 'public.accounts', rows: 20 },
      { name: 'public.entries', rows: 400 },
    ]);
    expect(artifact.details.pgDumpVersion).toMatch(/^pg_dump \(PostgreSQL\) \d+/);
    expect(artifact.details.serverVersion).toMatch(new RegExp(`^${pg.major}\\.`));
    expect(statSync(path.join(set.path, 'ledger.dump')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(set.path, 'RESTORE.txt'), 'utf8')).toContain('pg_restore --list ledger.dump');
    // Nothing of the password reaches the set or the catalog.
    expect(readFileSync(path.join(set.path, 'manifest.json'), 'utf8')).not.toContain(PG_PASSWORD);
    expect(readFileSync(path.join(home, 'catalog.sqlite')).includes(PG_PASSWORD)).toBe(false);

    const drill = await runCli(['drill', '--env', 'prod', '--json'], home, env);
    expect(drill.code, drill.stdout).toBe(0);
    expect(jsonOf<DrillReport>(drill).checks.map((c) => c.name)).toEqual(expect.arrayContaining(['pg_restore --list reads every recorded table', 'rows in the dump as recorded']));

    damage(pg, db);
    const dry = await runCli(['restore', '--env', 'prod', '--set', set.id, '--dry-run', '--json'], home, env);
    expect(dry.code, dry.stderr).toBe(0);
    const preview = jsonOf<RestorePreview>(dry);
    expect(preview.ready).toBe(true);
    expect(preview.sources[0]).toMatchObject({
      type: 'tables',
      targetExists: true,
      tables: [
        { name: 'audit.Event Log', now: 7, inSet: 7 },
        { name: 'public.accounts', now: 21, inSet: 20 },
        { name: 'public.entries', now: 375, inSet: 400 },
        { name: 'public.junk', now: 2, inSet: null },
      ],
    });
    expect(preview.preflight.find((c) => c.name === 'not in use')?.status).toBe('PASS');

    const refused = await runCli(['restore', '--env', 'prod', '--set', set.id], home, env);
    expect(refused.code).toBe(3);
    const r = await runCli(['restore', '--env', 'prod', '--set', set.id, '--confirm', 'prod', '--json'], home, env);
    expect(r.code, r.stderr).toBe(0);
    const result = jsonOf<RestoreResult>(r);
    expect(rowsOf(pg, db)).toBe(before);
    expect(result.verification.every((c) => c.status === 'PASS')).toBe(true);
    expect(result.verification.map((c) => c.reason).join(' ')).toContain('public.junk');
    // The safety set holds the damaged rows: restoring it brings them back.
    expect(result.safetySet).not.toBeNull();
    const back = await runCli(['restore', '--env', 'prod', '--set', result.safetySet!.id, '--confirm', 'prod'], home, env);
    expect(back.code, back.stderr).toBe(0);
    expect(pg.sql(db, 'SELECT name FROM accounts WHERE id = 3')).toBe('hijacked');
    expect(pg.sql(db, 'SELECT count(*) FROM entries')).toBe('375');
  });

  it('restore test into a new database leaves the live database alone, and refuses a name that exists', async () => {
    const { pg, db, engine, backup } = await ledgerSet();
    const before = rowsOf(pg, db);
    damage(pg, db);
    const damaged = rowsOf(pg, db);
    const copy = `${db}_copy`;
    const preview = await engine.call('restore.preview', { env: 'prod', set: backup.id, toDatabase: copy });
    expect(preview.mode).toBe('elsewhere');
    expect(preview.needsConfirmation).toBe(false);
    expect(preview.preflight.map((c) => `${c.name}: ${c.status}`)).toContain('new database name is free: PASS');
    const result = await engine.call('restore.run', { env: 'prod', set: backup.id, toDatabase: copy });
    expect(result.safetySet).toBeNull();
    expect(result.targets[0]!.path).toContain(`"${copy}"`);
    expect(rowsOf(pg, copy)).toBe(before);
    expect(rowsOf(pg, db)).toBe(damaged);

    const again = await failure(engine.call('restore.run', { env: 'prod', set: backup.id, toDatabase: copy }));
    expect(again.code).toBe('TARGET_NOT_EMPTY');
    expect(again.message).toContain('already exists');
    // A folder alone cannot place a database.
    const folderOnly = await failure(engine.call('restore.run', { env: 'prod', set: backup.id, to: path.join(tempDir(), 'x') }));
    expect(folderOnly.code).toBe('BAD_ARGUMENT');
    expect(folderOnly.hint).toContain('--to-database');
  });

  it('drill fails naming the dump when it is truncated, also when the manifest was made to agree', async () => {
    const { engine, backup } = await ledgerSet();
    const file = path.join(backup.path, 'ledger.dump');
    truncateSync(file, Math.floor(statSync(file).size * 0.6));
    const report = await engine.call('drill.run', { env: 'prod', set: backup.id });
    expect(report.passed).toBe(false);
    expect(failed(report)).toEqual(['ledger.dump: size and SHA-256 as recorded']);

    resealArtifact(backup.path, 'ledger.dump');
    const resealed = await engine.call('drill.run', { env: 'prod', set: backup.id });
    expect(resealed.passed).toBe(false);
    expect(failed(resealed).join('\n')).toMatch(/^ledger\.dump: (pg_restore --list reads every recorded table|rows in the dump as recorded)/m);
    // A restore of that set is refused before anything is touched.
    const refused = await failure(engine.call('restore.run', { env: 'prod', set: backup.id, confirm: 'prod' }));
    expect(refused.code).toBe('SET_FAILED_DRILL');
  });

  it('drill restores into a scratch database when allowed, compares its rows, and drops it', async () => {
    const { pg, engine, backup } = await ledgerSet({ scratch: {} });
    const report = await engine.call('drill.run', { env: 'prod', set: backup.id });
    expect(failed(report)).toEqual([]);
    expect(report.checks.filter((c) => c.target === 'ledger.dump').map((c) => c.name)).toEqual([
      'size and SHA-256 as recorded',
      'pg_restore can read this dump',
      'pg_restore --list reads every recorded table',
      'rows in the dump as recorded',
      'test restore into a scratch database',
      'scratch database has the recorded rows',
      'scratch database dropped',
    ]);
    expect(pg.sql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'lifeboat_drill_%'")).toBe('0');
  });

  it('a wrong password, an unset variable, a missing server and a server that never answers fail fast with a clear error and no set', async () => {
    const pg = server();
    const root = tempDir();
    const db = pg.createDatabase('ledger');
    const engine = engineAt(path.join(root, 'home'));
    process.env.LIFEBOAT_TEST_WRONG_PW = 'not-the-password';
    const silent = path.join(root, 'silent');
    mkdirSync(silent);
    // A socket that accepts connections and never says a word: only the connect timeout ends the wait.
    const mute = net.createServer(() => undefined).listen(path.join(silent, '.s.PGSQL.5432'));
    await once(mute, 'listening');
    try {
      const cases: [string, Record<string, unknown>, string][] = [
        ['wrong', { passwordEnv: 'LIFEBOAT_TEST_WRONG_PW' }, 'AUTH_FAILED'],
        ['unset', { passwordEnv: 'LIFEBOAT_TEST_NO_SUCH_VARIABLE' }, 'PASSWORD_MISSING'],
        ['gone', { host: path.join(root, 'no-server-here') }, 'UNREACHABLE'],
        ['mute', { host: silent, connectTimeoutSeconds: 2 }, 'UNREACHABLE'],
      ];
      for (const [name, extra, code] of cases) {
        const env = { ...environment(root, pg, db, extra), name };
        await engine.call('env.save', { environment: env });
        const t0 = performance.now();
        const err = await failure(engine.call('backup.run', { env: name }));
        expect(err.code, `${name}: ${err.message}`).toBe(code);
        expect(performance.now() - t0, name).toBeLessThan(8000);
        expect(err.hint.length).toBeGreaterThan(10);
        expect((await engine.call('sets.list', { env: name })).length).toBe(0);
      }
    } finally {
      mute.close();
      delete process.env.LIFEBOAT_TEST_WRONG_PW;
    }
  });

  it('reads the password from a passfile, and refuses one that other users can read (libpq would silently ignore it)', async () => {
    const pg = server();
    const root = tempDir();
    const db = pg.createDatabase('ledger');
    makeLedger(pg, db, 10);
    const passfile = path.join(root, 'pgpass');
    writeFileSync(passfile, `*:*:*:${PG_USER}:${PG_PASSWORD}\n`, { mode: 0o644 });
    chmodSync(passfile, 0o644);
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: environment(root, pg, db, { passwordEnv: undefined, passfile }) });
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code).toBe('PASSWORD_MISSING');
    expect(err.hint).toBe(`Run: chmod 600 ${passfile}`);
    chmodSync(passfile, 0o600);
    const set = await engine.call('backup.run', { env: 'prod' });
    expect((await engine.call('drill.run', { env: 'prod', set: set.id })).passed).toBe(true);
  });

  it('refuses a pg_dump older than the server, and a missing one, naming the Debian package', async () => {
    const pg = server();
    const root = tempDir();
    const db = pg.createDatabase('ledger');
    // A folder of client programs as an old install would have: the real psql, a pg_dump of version 12.
    const old = path.join(root, 'pg12-bin');
    mkdirSync(old);
    symlinkSync(execFileSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).trim(), path.join(old, 'psql'));
    for (const name of ['pg_dump', 'pg_restore']) writeFileSync(path.join(old, name), `#!/bin/sh\necho "${name} (PostgreSQL) 12.22"\n`, { mode: 0o755 });
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: environment(root, pg, db, { binDir: old }) });
    const tooOld = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(tooOld.code).toBe('TOOL_TOO_OLD');
    expect(tooOld.message).toContain('pg_dump is version 12');
    expect(tooOld.hint).toContain(`postgresql-client-${pg.major}`);
    await engine.call('env.save', { environment: environment(root, pg, db, { binDir: path.join(root, 'nowhere') }) });
    const missing = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(missing.code).toBe('TOOL_MISSING');
    expect(missing.hint).toContain('postgresql-client');
  });

  it('refuses to restore while another session is connected, naming it', async () => {
    const { pg, db, engine, backup } = await ledgerSet();
    const holder = spawn('psql', ['-X', '-h', pg.socketDir, '-U', PG_USER, '-d', db, '-c', 'SELECT pg_sleep(120)'], {
      env: { ...process.env, PGPASSWORD: PG_PASSWORD, PGAPPNAME: 'ledger-app' },
      stdio: 'ignore',
    });
    children.push(holder);
    for (let i = 0; i < 100 && pg.sql('postgres', `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ledger-app'`) === '0'; i++) await new Promise((r) => setTimeout(r, 100));
    const preview = await engine.call('restore.preview', { env: 'prod', set: backup.id });
    expect(preview.ready).toBe(false);
    const err = await failure(engine.call('restore.run', { env: 'prod', set: backup.id, confirm: 'prod' }));
    expect(err.code).toBe('IN_USE');
    expect(err.message).toContain('ledger-app');
    expect(err.message).toContain(`pid `);
  });

  it('a dump holding an object that fails to restore applies nothing, and says so', async () => {
    const pg = server();
    const root = tempDir();
    const db = pg.createDatabase('ledger');
    makeLedger(pg, db);
    const role = `ledger_owner_${process.pid}`;
    pg.sql(db, `CREATE ROLE ${role}; CREATE TABLE owned_elsewhere (id int); ALTER TABLE owned_elsewhere OWNER TO ${role};`);
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: environment(root, pg, db) });
    const backup = await engine.call('backup.run', { env: 'prod' });
    // The owner the dump names is gone: its ALTER TABLE … OWNER TO fails half-way through the dump.
    pg.sql(db, `REASSIGN OWNED BY ${role} TO ${PG_USER}; DROP OWNED BY ${role}; DROP ROLE ${role};`);
    damage(pg, db);
    const damaged = rowsOf(pg, db);
    const err = await failure(engine.call('restore.run', { env: 'prod', set: backup.id, confirm: 'prod' }));
    expect(err.code).toBe('RESTORE_FAILED');
    expect(err.message).toContain('nothing of the dump was applied');
    expect(err.message).toContain(role);
    expect(rowsOf(pg, db)).toBe(damaged);
    expect(pg.sql(db, 'SELECT count(*) FROM junk')).toBe('2');
  });
});
