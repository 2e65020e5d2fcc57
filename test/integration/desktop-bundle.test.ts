import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT, useTempDirs } from '../support/tools.js';

const temp = useTempDirs();

describe("the desktop app's CommonJS bundle", () => {
  it('opens the engine: nothing in it needs import.meta, which that bundle does not have', async () => {
    const dir = temp();
    // The engine bundled as `npm run build:app` bundles main.ts (CommonJS), without Electron itself.
    const entry =
      "const { Engine } = require('./electron/engine/engine.ts'); const e = new Engine(process.argv[2], 'app'); process.stdout.write(JSON.stringify({ runDue: e.runDueCommand })); e.close();";
    const bundled = await build({
      stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      external: ['electron', 'better-sqlite3'],
      write: false,
      logLevel: 'silent',
    });
    expect(bundled.warnings.map((w) => `${w.id}: ${w.location?.file}:${w.location?.line}`)).toEqual([]);
    const file = path.join(dir, 'engine.cjs');
    writeFileSync(file, bundled.outputFiles[0]!.text);
    const run = spawnSync(process.execPath, [file, path.join(dir, 'home')], { encoding: 'utf8', env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') } });
    expect(`${run.status} ${run.stderr}`.trim()).toBe('0');
    // The app sets how its timer starts it (main.ts); the engine alone knows of no command line.
    expect(JSON.parse(run.stdout)).toEqual({ runDue: null });
  });

  it('builds with no warning at all: `npm run build:app` (esbuild at --log-level=warning) prints nothing', () => {
    const run = spawnSync('npm', ['run', '--silent', 'build:app'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: run.status, output: `${run.stdout}${run.stderr}` }).toEqual({ status: 0, output: '' });
  });
});
