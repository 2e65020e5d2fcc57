import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../electron/engine/environment-file.js';
import { LifeboatError } from '../../electron/engine/errors.js';

function problemsOf(input: unknown): { path: string; message: string }[] {
  try {
    parseEnvironment(input, '/base');
  } catch (err) {
    expect(err).toBeInstanceOf(LifeboatError);
    return (err as LifeboatError).problems ?? [];
  }
  throw new Error('expected the environment to be refused');
}

describe('environment file', () => {
  it('parses the documented example and fills defaults', () => {
    const env = parseEnvironment(
      {
        name: 'prod',
        app: 'lrl',
        protection: 'protected',
        location: '/srv/backups/lrl',
        sources: [
          { kind: 'sqlite', name: 'db', path: '/srv/lrl/data/lrl.db' },
          { kind: 'files', name: 'assets', path: '/srv/lrl/data/assets', include: ['**/*'], exclude: [] },
          { kind: 'files', name: 'faiss', path: '/srv/app/data/faiss', include: ['*.index', '*.meta.json'] },
        ],
      },
      '/base',
    );
    expect(env.sources[2]).toEqual({ kind: 'files', name: 'faiss', path: '/srv/app/data/faiss', include: ['*.index', '*.meta.json'], exclude: [] });
  });
  it("resolves relative paths against the file's folder", () => {
    const env = parseEnvironment({ name: 'dev', app: 'lrl', location: 'backups', sources: [{ kind: 'sqlite', name: 'db', path: '../data/lrl.db' }] }, '/srv/lrl/conf');
    expect(env.location).toBe('/srv/lrl/conf/backups');
    expect((env.sources[0] as { path: string }).path).toBe('/srv/lrl/data/lrl.db');
    expect(env.protection).toBe('normal');
  });
  it('reports every problem at once with its field path', () => {
    const paths = problemsOf({
      name: 'PROD',
      app: 'l_r_l',
      location: '',
      sources: [
        { kind: 'files', name: 'a', path: '/x', include: [] },
        { kind: 'sqlite', name: 'DB', path: '/y' },
      ],
    }).map((p) => p.path);
    expect(paths.sort()).toEqual(['app', 'location', 'name', 'sources[0].include', 'sources[1].name']);
  });
  it('refuses two sources of one name, and live data inside the backup location', () => {
    const problems = problemsOf({
      name: 'prod',
      app: 'lrl',
      location: '/b',
      sources: [
        { kind: 'sqlite', name: 'db', path: '/b/live.db' },
        { kind: 'sqlite', name: 'db', path: '/d/x.db' },
      ],
    });
    expect(problems.map((p) => p.path)).toEqual(['sources[0].path', 'sources[1].name']);
    expect(problems[1]!.message).toContain('already the name of sources[0]');
  });
});
