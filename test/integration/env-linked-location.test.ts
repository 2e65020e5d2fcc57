import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLiveData, treeFingerprint } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { failure, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const engineFor = useEngines();

/**
 * Found by the environment-file fuzz: a location reached through a symbolic link into a files
 * source was accepted, and its backup then wrote its folder and lock into the live assets.
 * Locations and sources are compared by where their links lead.
 */
describe('a location and a source compared through symbolic links', () => {
  it('a location through a link into a files source is refused, and nothing is written there', async () => {
    const root = tempDir();
    makeLiveData(root);
    symlinkSync(path.join(root, 'live', 'assets'), path.join(root, 'link'));
    const before = treeFingerprint(path.join(root, 'live'));
    const err = await failure(engineFor(path.join(root, 'home')).call('env.save', { environment: demoEnvironment(root, { location: path.join(root, 'link', 'sets') }) }));
    expect(err.code).toBe('BAD_ENVIRONMENT');
    expect(err.message).toContain(`location: ${path.join(root, 'link', 'sets')} leads to ${path.join(root, 'live', 'assets', 'sets')}, inside the folder of source "assets"`);
    expect(err.hint).toMatch(/nothing was saved/);
    expect(treeFingerprint(path.join(root, 'live'))).toEqual(before);
    expect(existsSync(path.join(root, 'live', 'assets', 'sets'))).toBe(false);
  });

  it('a source through a link into the location is refused', async () => {
    const root = tempDir();
    makeLiveData(root);
    mkdirSync(path.join(root, 'sets', 'data'), { recursive: true });
    symlinkSync(path.join(root, 'sets', 'data'), path.join(root, 'linked-data'));
    const env = demoEnvironment(root);
    env.sources = [{ kind: 'files', name: 'assets', path: path.join(root, 'linked-data') }];
    const err = await failure(engineFor(path.join(root, 'home')).call('env.save', { environment: env }));
    expect(err.code).toBe('BAD_ENVIRONMENT');
    expect(err.message).toContain(`sources[0].path: ${path.join(root, 'linked-data')} leads to ${path.join(root, 'sets', 'data')}, inside the backup location`);
  });
});
