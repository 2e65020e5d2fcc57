import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, useTempDirs } from '../support/tools.js';

const temp = useTempDirs();

/** Runs `npm start`'s script until it has printed an address, then stops it with SIGTERM. */
async function start(given: Record<string, string | undefined>, noElectron: string) {
  // An empty Electron folder, so that a machine that did download Electron still takes this path.
  const env = { ...given, ELECTRON_OVERRIDE_DIST_PATH: noElectron };
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'start.js')], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!/#token=[A-Za-z0-9_-]+\n/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  const url = /http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+/.exec(out)?.[0];
  const page = url ? await fetch(new URL('/', url)).then((r) => r.status) : null;
  child.kill('SIGTERM');
  return { out, url, page, code: await exited };
}

describe('npm start where the Electron binary is missing', () => {
  it('says so in one line, starts the web host, prints its address, and stops cleanly', async () => {
    const env = { ...process.env, LIFEBOAT_HOME: temp(), DISPLAY: undefined, WAYLAND_DISPLAY: undefined };
    const r = await start(env, temp());
    expect(r.url, r.out).toBeTruthy();
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('Lifeboat: Electron is not installed here, so it opens in your browser instead, through its local web host.');
    expect(lines[1]).toBe(`Lifeboat web host: ${r.url}`);
    expect(r.page).toBe(200);
    expect(r.code).toBe(0);
  });

  it("opens the address in the desktop's browser where there is one", async () => {
    const bin = temp();
    const opened = path.join(bin, 'opened.txt');
    writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
    chmodSync(path.join(bin, 'xdg-open'), 0o755);
    const r = await start({ ...process.env, LIFEBOAT_HOME: temp(), DISPLAY: ':99', WAYLAND_DISPLAY: undefined, PATH: `${bin}:${process.env.PATH}` }, temp());
    expect(r.url, r.out).toBeTruthy();
    await expect.poll(() => existsSync(opened)).toBe(true);
    expect(readFileSync(opened, 'utf8')).toBe(r.url);
    expect(r.out.split('\n')[0]).toContain('Electron is not installed here');
  });
});
