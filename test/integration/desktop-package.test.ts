import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputOf, ROOT, sha256sum, useTempDirs } from '../support/tools.js';

const temp = useTempDirs();
const require = createRequire(path.join(ROOT, 'package.json'));

/** electron-builder's own configuration reader and schema check: what `electron-builder` runs before it builds anything. */
interface BuilderConfig {
  getConfig(projectDir: string, configPath: string, fromOptions: null): Promise<Record<string, unknown>>;
  validateConfiguration(config: Record<string, unknown>, debugLogger: unknown): Promise<void>;
}
function builder(): { config: BuilderConfig; logger: unknown } {
  const config = require('app-builder-lib/out/util/config/config') as BuilderConfig;
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  return { config, logger: new DebugLogger(false) };
}
const CONFIG = path.join('build', 'electron-builder.yml');

describe("the desktop package's configuration (build/electron-builder.yml)", () => {
  it("passes electron-builder's own schema check, which refuses a misspelt option", async () => {
    const { config, logger } = builder();
    const loaded = await config.getConfig(ROOT, CONFIG, null);
    await expect(config.validateConfiguration(loaded, logger)).resolves.toBeUndefined();
    // The check bites: the same configuration with one misspelt key is refused, naming its section.
    const misspelt = { ...loaded, linux: { ...(loaded.linux as object), categroy: 'Utility' } };
    await expect(config.validateConfiguration(misspelt, logger)).rejects.toThrow(/does not match the API schema[^]*configuration\.linux/);
  });

  it('packs the app electron-builder is told to: package.json names out/main.cjs, and every listed file is there', async () => {
    const loaded = await builder().config.getConfig(ROOT, CONFIG, null);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; devDependencies: Record<string, string> };
    const files = JSON.stringify(loaded.files);
    expect(files).toContain(pkg.main);
    expect(files).toContain('out/preload.cjs');
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['electron', 'electron-builder']));
    expect(() => readFileSync(path.join(ROOT, String(loaded.icon)))).not.toThrow();
  });
});

describe("npm run dist where Electron's binary cannot be fetched", () => {
  it('says so in one line, exits 1, and leaves the SQLite module as it was', async () => {
    // A mirror that has nothing (as github.com is for a machine without the network), and no local binary.
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sqliteModule = path.join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    const before = sha256sum(sqliteModule);
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
    try {
      const env = { ...process.env, ELECTRON_MIRROR: `http://127.0.0.1:${port}/`, ELECTRON_OVERRIDE_DIST_PATH: temp() };
      const run = await outputOf(spawn('npm', ['run', '--silent', 'dist'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([
        `lifeboat dist: Electron ${version}'s binary (electron-v${version}-${process.platform}-${process.arch}.zip) cannot be fetched from 127.0.0.1:${port} (HTTP 404); run \`npm run dist\` on a machine that can reach it, or set ELECTRON_MIRROR to a mirror that has it.`,
      ]);
    } finally {
      server.close();
    }
    expect(sha256sum(sqliteModule)).toBe(before);
  });
});
