import { execSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAppDb, makeAssets } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { requireBinary, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const engineAt = useEngines();

describe('RESTORE.txt, the recovery card', () => {
  it('every command it gives runs with plain tools and prints what it says it will', async () => {
    for (const [bin, pkg] of [
      ['sqlite3', 'sqlite3'],
      ['tar', 'tar'],
      ['gunzip', 'gzip'],
      ['sha256sum', 'coreutils'],
    ])
      requireBinary(bin!, pkg!);
    const root = tempDir();
    mkdirSync(path.join(root, 'live', 'assets'), { recursive: true });
    makeAppDb(path.join(root, 'live', 'shop.db'), { rows: 123, wal: true });
    makeAssets(path.join(root, 'live', 'assets'));
    const engine = engineAt(path.join(root, 'home'));
    await engine.call('env.save', { environment: demoEnvironment(root) });
    const set = await engine.call('backup.run', { env: 'prod' });

    // Work on a copy, as an operator would on a machine without Lifeboat.
    const copy = path.join(root, 'by-hand');
    cpSync(set.path, copy, { recursive: true });
    const card = readFileSync(path.join(copy, 'RESTORE.txt'), 'utf8');
    const commands = card.split('\n').filter((l) => l.startsWith('     ') && !l.trimStart().startsWith('('));
    expect(commands.length).toBeGreaterThanOrEqual(7);
    let checked = 0;
    for (const line of commands) {
      const [command, expectation] = line.trim().split(/\s+#\s+/);
      const output = execSync(command!, { cwd: copy, encoding: 'utf8', shell: '/bin/bash' }).trim();
      const want = expectation?.match(/^(?:prints|recorded): (\S+)/)?.[1];
      if (want) {
        expect(output, command).toBe(want);
        checked++;
      }
    }
    // integrity_check, three tables' row counts and the file count were all compared.
    expect(checked).toBe(5);
    expect(card).toContain('123');
  });
});
