import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../electron/engine/environment-file.js';
import { LifeboatError } from '../../electron/engine/errors.js';
import { readFixture } from '../../electron/engine/sources/command/django-fixture.js';
import { majorOf } from '../../electron/engine/sources/postgres/postgres-client.js';

function problemsOf(sources: unknown[]): string[] {
  try {
    parseEnvironment({ name: 'prod', app: 'ledgerflow', location: '/srv/backups', sources }, '/etc/lifeboat');
  } catch (err) {
    expect(err).toBeInstanceOf(LifeboatError);
    return ((err as LifeboatError).problems ?? []).map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the environment to be refused');
}

describe('postgres and command sources in an environment file', () => {
  it("fills defaults and resolves a passfile, a binDir and command folders against the file's folder", () => {
    const env = parseEnvironment(
      {
        name: 'prod',
        app: 'ledgerflow',
        location: '/srv/backups',
        sources: [
          {
            kind: 'postgres',
            name: 'ledger',
            host: '/run/postgresql',
            database: 'ledgerflow',
            user: 'backup',
            passfile: 'secrets/pgpass',
            binDir: '/usr/lib/postgresql/16/bin',
            scratch: { passfile: 'secrets/scratch-pgpass' },
          },
          {
            kind: 'command',
            name: 'dictionary',
            format: 'django-fixture',
            dump: { argv: ['python3', 'manage.py', 'dumpdata', 'dictionary'], cwd: '../iir' },
            restore: { argv: ['python3', 'manage.py', 'loaddata', '--format=json', '-'], cwd: '../iir', env: { DJANGO_SETTINGS_MODULE: 'iir.settings' } },
          },
        ],
      },
      '/etc/lifeboat',
    );
    expect(env.sources[0]).toEqual({
      kind: 'postgres',
      name: 'ledger',
      host: '/run/postgresql',
      port: 5432,
      database: 'ledgerflow',
      user: 'backup',
      passfile: '/etc/lifeboat/secrets/pgpass',
      binDir: '/usr/lib/postgresql/16/bin',
      scratch: { passfile: '/etc/lifeboat/secrets/scratch-pgpass' },
      connectTimeoutSeconds: 10,
      timeoutSeconds: 3600,
    });
    expect(env.sources[1]).toMatchObject({ dump: { cwd: '/etc/iir', env: {} }, restore: { cwd: '/etc/iir', env: { DJANGO_SETTINGS_MODULE: 'iir.settings' } }, timeoutSeconds: 3600 });
  });

  it('says what is wrong with each field, and never takes a password or a shell line', () => {
    expect(problemsOf([{ kind: 'postgres', name: 'db', database: '', port: 70000, passwordEnv: 'PG PASSWORD', password: 'hunter2' }]).sort()).toEqual([
      'sources[0].database: give the database name',
      'sources[0].passwordEnv: use the name of an environment variable: letters, digits and "_", not starting with a digit',
      'sources[0].port: give a port from 1 to 65535',
      'sources[0].user: give the database user name',
      'sources[0]: Lifeboat never keeps a password in an environment: name the variable that holds it in "passwordEnv", or a .pgpass file in "passfile"',
    ]);
    expect(problemsOf([{ kind: 'postgres', name: 'db', database: 'x', user: 'u', passwordEnv: 'PGPW', passfile: '/p' }])).toEqual([
      'sources[0].passfile: give either passwordEnv or passfile, not both',
    ]);
    expect(problemsOf([{ kind: 'command', name: 'fx', dump: 'python3 manage.py dumpdata > out.json', restore: { argv: [''] }, format: 'xml', timeoutSeconds: 0 }])).toEqual([
      'sources[0].dump: give an object with "argv" (the program and its arguments as a list), and optionally "cwd" and "env"; a shell line is not run',
      'sources[0].restore.argv: the first entry is the program to run; it cannot be empty',
      'sources[0].format: the only format Lifeboat knows is "django-fixture"; leave it out for any other output',
      'sources[0].timeoutSeconds: give a number of seconds above 0',
    ]);
  });
});

describe('Django fixtures', () => {
  it('counts objects per model, and names the first element that is not a fixture object', async () => {
    const text = JSON.stringify([
      { model: 'a.word', pk: 1, fields: { t: 'x' } },
      { model: 'a.category', fields: { name: 'n' } },
      { model: 'a.word', pk: 2, fields: {} },
    ]);
    // Split inside a string, so the parser must carry state across chunks.
    expect(await readFixture(Readable.from([text.slice(0, 17), text.slice(17)]))).toEqual({
      objects: 3,
      models: [
        { name: 'a.category', rows: 1 },
        { name: 'a.word', rows: 2 },
      ],
    });
    await expect(readFixture(Readable.from(['[{"model": "a.word", "fields": {}}, {"model": "word", "fields": {}}]']))).rejects.toThrow('element 1 has no "model"');
    await expect(readFixture(Readable.from(['[{"model": "a.word"}]']))).rejects.toThrow('element 0 (a.word) has no "fields"');
    await expect(readFixture(Readable.from(['{"model": "a.word"}']))).rejects.toThrow(/array/);
    await expect(readFixture(Readable.from(['[{"model": "a.word", "fields": {}}, ']))).rejects.toThrow();
  });
});

describe('PostgreSQL versions', () => {
  it('reads the major version of a client program and of a server', () => {
    expect(majorOf('pg_dump (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)')).toBe(15);
    expect(majorOf('16.4')).toBe(16);
    expect(majorOf('pg_dump (PostgreSQL) 9.6.24')).toBe(9.6);
  });
});
