import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { walk } from '../../electron/engine/sources/files/walk.js';
import { useEngines } from '../support/engine.js';
import { failure, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const engineAt = useEngines();

/** `depth` nested folders `d` under `root`, with a file at the bottom; returns the bottom folder. */
function deepTree(root: string, depth: number): string {
  const bottom = path.join(root, ...Array.from({ length: depth }, () => 'd'));
  mkdirSync(bottom, { recursive: true });
  writeFileSync(path.join(bottom, 'leaf.txt'), 'at the bottom\n');
  writeFileSync(path.join(root, 'top.txt'), 'at the top\n');
  return bottom;
}

/**
 * node-tar, which drills and restores archives, refuses names of more than 1,024 parts (a
 * folder's trailing "/" counts as one). A tree deeper than that is refused by the backup, before
 * any set is written, rather than sealed into a set whose drill fails.
 */
describe('a folder tree deeper than an archive can hold', () => {
  it('is refused by the backup naming the first folder too deep and the limit, and nothing is written', async () => {
    const root = tempDir();
    const live = path.join(root, 'live');
    deepTree(live, 1100);
    const engine = engineAt(path.join(root, 'home'));
    const sets = path.join(root, 'sets');
    await engine.call('env.save', { environment: { name: 'prod', app: 'deep', protection: 'normal', location: sets, sources: [{ kind: 'files', name: 'tree', path: live }] } });
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code).toBe('SOURCE_TOO_DEEP');
    const tooDeep = path.join(live, ...Array.from({ length: 1024 }, () => 'd'));
    expect(err.message).toContain(`${tooDeep} is a folder 1024 levels below the folder of source "tree"`);
    expect(err.message).toContain('folders at most 1023 levels deep and files and links at most 1024');
    expect(err.hint).toMatch(/Exclude that folder/);
    expect(existsSync(sets) ? readdirSync(sets).filter((n) => !n.startsWith('.lifeboat-')) : []).toEqual([]);
    expect(await engine.call('sets.list', { env: 'prod' })).toEqual([]);
  });

  it('takes a tree exactly as deep as an archive holds: folders 1,023 levels down, a file at 1,024', async () => {
    const root = tempDir();
    deepTree(root, 1023);
    const entries = await walk(root, { include: ['**/*'], exclude: [] }, 'tree');
    expect(entries.filter((e) => e.type === 'dir')).toHaveLength(1023);
    expect(entries.find((e) => e.path.endsWith('/leaf.txt'))?.path.split('/')).toHaveLength(1024);
  });
});
