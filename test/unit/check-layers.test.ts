import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/** The layer check as `npm run lint` runs it, on the tree at `root`. */
const CHECKER = path.resolve(import.meta.dirname, '../tools/check-layers.js');
const check = (root?: string) => {
  const run = spawnSync(process.execPath, [CHECKER, ...(root ? ['--root', root] : [])], { encoding: 'utf8' });
  return { code: run.status, out: run.stdout + run.stderr };
};

/** A small tree that passes: an engine module, a door, a shared module and a renderer component. */
const CLEAN: Record<string, string> = {
  'shared/api.ts': "import { z } from 'zod';\nexport const Api = z.object({});\n",
  'electron/engine/engine.ts': "import { readFile } from 'node:fs/promises';\nimport { Api } from '../../shared/api.js';\nexport const engine = { readFile, Api };\n",
  'electron/engine/jobs.ts': "import type { engine } from './engine.js';\nexport type Jobs = typeof engine;\n",
  'electron/cli.ts': "import { engine } from './engine/engine.js';\nconsole.log(engine);\n",
  'electron/main.ts': "import { app } from 'electron';\nimport { engine } from './engine/engine.js';\nconsole.log(app, engine);\n",
  'renderer/src/App.svelte': "<script lang=\"ts\">\n  import { Api } from '../../shared/api.js';\n  import Row from './Row.svelte';\n</script>\n<Row {Api} />\n",
  'renderer/src/Row.svelte': '<script lang="ts">\n  let { Api } = $props();\n</script>\n<p>{Api}</p>\n',
};

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** The clean tree with `changes` written over it (an empty string removes nothing: files are only added or replaced). */
function tree(changes: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-layers-'));
  roots.push(root);
  for (const [file, text] of Object.entries({ ...CLEAN, ...changes })) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe('the layer check', () => {
  it('passes the real tree', () => {
    const { code, out } = check();
    expect(out).toContain('Layer check passed');
    expect(code).toBe(0);
  });

  it('passes a small clean tree, where a type-only import back is no cycle', () => {
    const { code, out } = check(tree({ 'electron/engine/engine.ts': "import type { Jobs } from './jobs.js';\nexport const engine = {};\nexport type E = Jobs;\n" }));
    expect(out).toContain('Layer check passed');
    expect(code).toBe(0);
  });

  it.each([
    [
      'an import cycle',
      { 'electron/engine/a.ts': "import { b } from './b.js';\nexport const a = b;\n", 'electron/engine/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n" },
      'electron/engine/a.ts: import cycle electron/engine/a.ts → electron/engine/b.ts → electron/engine/a.ts',
    ],
    [
      'the renderer importing fs',
      { 'renderer/src/lib/disk.ts': "import { readFileSync } from 'fs';\nexport const read = readFileSync;\n" },
      'renderer/src/lib/disk.ts: imports fs (the renderer runs in a page: no Node built-in)',
    ],
    [
      'the renderer importing node:fs in a component',
      { 'renderer/src/Row.svelte': '<script lang="ts">\n  import { readFileSync } from \'node:fs\';\n</script>\n' },
      'renderer/src/Row.svelte: imports node:fs',
    ],
    [
      'shared/ importing child_process',
      { 'shared/run.ts': "import { spawn } from 'child_process';\nexport const run = spawn;\n" },
      'shared/run.ts: imports child_process (shared/ runs in the renderer: zod only, no Node built-in)',
    ],
    ['shared/ importing node:child_process', { 'shared/run.ts': "import { spawn } from 'node:child_process';\nexport const run = spawn;\n" }, 'shared/run.ts: imports node:child_process'],
    [
      'the engine importing electron',
      { 'electron/engine/notify.ts': "import { Notification } from 'electron';\nexport const n = Notification;\n" },
      'electron/engine/notify.ts: imports electron (the engine must run under plain Node)',
    ],
    ['the engine importing a door', { 'electron/engine/jobs.ts': "import '../cli.js';\n" }, 'electron/engine/jobs.ts: imports electron/cli.ts'],
    [
      'the renderer importing the engine',
      { 'renderer/src/lib/direct.ts': "import { engine } from '../../../electron/engine/engine.js';\nexport const e = engine;\n" },
      'renderer/src/lib/direct.ts: imports electron/engine/engine.ts (the renderer imports only shared/)',
    ],
    ['the CLI importing electron', { 'electron/cli.ts': "import { app } from 'electron';\nconsole.log(app);\n" }, 'electron/cli.ts: imports electron (the CLI and the web host run under plain Node)'],
    ['the web host importing a desktop file', { 'electron/web.ts': "import '../electron/main.js';\n" }, 'electron/web.ts: imports electron/main.ts'],
    [
      'the preload importing the engine',
      { 'electron/preload.ts': "import { engine } from './engine/engine.js';\nexport const e = engine;\n" },
      'electron/preload.ts: imports electron/engine/engine.ts',
    ],
    ['a door importing the renderer', { 'electron/web.ts': "import '../renderer/src/lib/x.js';\n" }, 'electron/web.ts: imports renderer/src/lib/x.js'],
    [
      'a grep rule: zlib in a plug-in',
      { 'electron/engine/sources/sqlite.ts': "import { createGzip } from 'node:zlib';\nexport const z = createGzip;\n" },
      'electron/engine/sources/sqlite.ts:1: matches',
    ],
  ])('reports %s with its file', (_what, changes, expected) => {
    const { code, out } = check(tree(changes));
    expect(out).toContain(expected);
    // Only the file that breaks the rule is named: the rest of the tree is clean.
    const named = out
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => line.trim().split(':')[0]);
    expect(new Set(named)).toEqual(new Set([expected.split(':')[0]]));
    expect(code).toBe(1);
  });
});
