import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { failure, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const engineFor = useEngines();

/** Found by the environment-file fuzz: a source that is a link to itself made the backup fail with a bare ELOOP (INTERNAL at a door). */
describe('a source path that is a symbolic link loop', () => {
  it('the backup refuses it with SOURCE_UNREADABLE naming the loop', async () => {
    const root = tempDir();
    makeLiveData(root);
    const loop = path.join(root, 'loop');
    symlinkSync(loop, loop);
    const env = demoEnvironment(root);
    env.sources[0] = { kind: 'sqlite', name: 'db', path: loop };
    const engine = engineFor(path.join(root, 'home'));
    await engine.call('env.save', { environment: env });
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code, err.message).toBe('SOURCE_UNREADABLE');
    expect(err.message).toContain(`${loop} leads round a loop of symbolic links`);
    expect(err.hint).toMatch(/link/);
  });

  it('found by the fuzz too: a folder source below a file (ENOTDIR) is SOURCE_MISSING naming the path, not INTERNAL', async () => {
    const root = tempDir();
    makeLiveData(root);
    writeFileSync(path.join(root, 'a-file'), 'not a folder');
    const env = demoEnvironment(root);
    env.sources[1] = { kind: 'files', name: 'assets', path: path.join(root, 'a-file', 'sub'), include: ['**/*'], exclude: [] };
    const engine = engineFor(path.join(root, 'home'));
    await engine.call('env.save', { environment: env });
    const err = await failure(engine.call('backup.run', { env: 'prod' }));
    expect(err.code, err.message).toBe('SOURCE_MISSING');
    expect(err.message).toContain(`${path.join(root, 'a-file', 'sub')} does not exist: a part of it is a file, not a folder`);
  });
});
