import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { useEngines } from '../support/engine.js';
import { failure, sqlite3, useTempDirs } from '../support/tools.js';
import { checkResultsAgainstContract } from '../support/contract-check.js';

const temp = useTempDirs();
const engineAt = useEngines();

checkResultsAgainstContract();

describe("the environment editor's check", () => {
  it('reports every problem of a bad environment at once, with what is on disk', async () => {
    const root = temp();
    mkdirSync(path.join(root, 'live', 'assets'), { recursive: true });
    writeFileSync(path.join(root, 'live', 'assets', 'a.txt'), 'x');
    writeFileSync(path.join(root, 'live', 'notes.txt'), 'not a database');
    writeFileSync(path.join(root, 'afile'), 'x');
    const engine = engineAt(path.join(root, 'home'));
    const check = await engine.call('env.check', {
      environment: {
        app: 'Shop!',
        name: 'prod',
        location: path.join(root, 'afile', 'sets'),
        sources: [
          { kind: 'sqlite', name: 'db', path: path.join(root, 'live', 'missing.db') },
          { kind: 'sqlite', name: 'notes', path: path.join(root, 'live', 'notes.txt') },
          { kind: 'files', name: 'assets', path: path.join(root, 'live', 'assets'), include: ['**/*.png'] },
          { kind: 'files', name: 'rel', path: 'relative/folder' },
        ],
      },
    });
    expect(check.ok).toBe(false);
    const byPath = Object.fromEntries(check.problems.map((p) => [p.path, p.message]));
    expect(Object.keys(byPath).sort()).toEqual(['app', 'location', 'sources[0].path', 'sources[1].path', 'sources[2].include', 'sources[3].path']);
    expect(byPath['sources[0].path']).toMatch(/does not exist|no such/i);
    expect(byPath['sources[1].path']).toMatch(/not a SQLite database/);
    expect(byPath['sources[2].include']).toMatch(/no file .* matches/);
    expect(byPath['sources[3].path']).toMatch(/full path/);
    expect(byPath.location).toMatch(/is a file, not a folder/);
    expect(check.sources.map((s) => s.status)).toEqual(['problem', 'problem', 'problem', 'problem']);
  });

  it('says how many files the globs take and that the location will be created', async () => {
    const root = temp();
    makeLiveData(root);
    const engine = engineAt(path.join(root, 'home'));
    const environment = {
      app: 'shop',
      name: 'prod',
      location: path.join(root, 'backups', 'shop'),
      sources: [
        { kind: 'sqlite', name: 'db', path: path.join(root, 'live', 'shop.db') },
        { kind: 'files', name: 'assets', path: path.join(root, 'live', 'assets'), include: ['**/*'] },
      ],
    };
    const check = await engine.call('env.check', { environment });
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.exists).toBe(false);
    expect(check.sources[1]!.summary).toMatch(/^\d+ files match, /);
    expect(check.sources[1]!.files).toBeGreaterThan(0);
    expect(check.location.summary).toMatch(/^Will be created inside /);
    await engine.call('env.save', { environment });
    expect((await engine.call('env.check', { environment })).exists).toBe(true);
  });

  it('env.save from a form refuses a relative path instead of resolving it against wherever Lifeboat started', async () => {
    const root = temp();
    const engine = engineAt(path.join(root, 'home'));
    const err = await failure(engine.call('env.save', { environment: { app: 'a', name: 'b', location: 'sets', sources: [{ kind: 'sqlite', name: 'db', path: '/tmp/x.db' }] } }));
    expect(err.code).toBe('BAD_ENVIRONMENT');
    expect(err.message).toMatch(/location: give a full path/);
    expect(await engine.call('env.list', {})).toEqual([]);
  });
});

describe('the demo environment', () => {
  it("is created in the data folder, backs up and drills, and asking again keeps the operator's changes", async () => {
    const root = temp();
    const home = path.join(root, 'home');
    const engine = engineAt(home);
    const env = await engine.call('env.demo', {});
    expect(env.location.startsWith(home)).toBe(true);
    const db = (env.sources[0] as { path: string }).path;
    expect(sqlite3(db, 'SELECT count(*) FROM notes;')).toBe('120');
    const set = await engine.call('backup.run', { env: 'demo/notes' });
    const report = await engine.call('drill.run', { env: 'demo/notes', set: set.id });
    expect(report.passed).toBe(true);
    sqlite3(db, 'DELETE FROM notes WHERE id > 100;');
    const again = await engine.call('env.demo', {});
    expect(again).toEqual(env);
    expect(sqlite3(db, 'SELECT count(*) FROM notes;')).toBe('100');
    expect((await engine.call('env.list', {})).map((e) => e.key)).toEqual(['demo/notes']);
  });
});
