#!/usr/bin/env node
// `npm start`: opens Lifeboat. With the Electron binary present (and the native SQLite module built
// for it, and a display), the desktop app; otherwise the local web host (`lifeboat serve`), said in
// one line, with its address printed and opened in a browser where there is one.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line) => process.stdout.write(`${line}\n`);

/**
 * The Electron binary's path, or null. Read from the package's own `path.txt`, never through
 * `require('electron')`, which would try to download the binary (npm never runs that download here:
 * electron is not in allowScripts).
 */
function electronBinary() {
  const pkg = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const binary = process.env.ELECTRON_OVERRIDE_DIST_PATH ? path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, relative) : path.join(pkg, 'dist', relative);
  return existsSync(binary) ? binary : null;
}

/** Why the desktop app cannot open on this machine, or null when it can. */
function whyNotDesktop(binary) {
  if (!binary) return 'Electron is not installed here';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'there is no display here';
  if (!existsSync(path.join(root, 'out', 'main.cjs'))) return 'the app is not built (npm run build)';
  // better-sqlite3 is built for Node by npm install; Electron needs it built for its own ABI.
  const probe = spawnSync(binary, ['-e', "require('better-sqlite3')"], { cwd: root, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: 'ignore' });
  if (probe.status !== 0) return 'the SQLite module is not built for Electron (npx @electron/rebuild -o better-sqlite3)';
  return null;
}

/** The command that opens a URL in the desktop's browser, or null where there is none. */
function opener() {
  if (process.platform === 'darwin') return ['open'];
  if (process.platform === 'win32') return ['cmd', '/c', 'start', '""'];
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return null;
  return spawnSync('sh', ['-c', 'command -v xdg-open'], { stdio: 'ignore' }).status === 0 ? ['xdg-open'] : null;
}

function openInBrowser(url) {
  const cmd = opener();
  if (!cmd) return;
  try {
    const child = spawn(cmd[0], [...cmd.slice(1), url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser after all: the printed address is enough.
  }
}

const binary = electronBinary();
const why = whyNotDesktop(binary);
if (!why) {
  const app = spawn(binary, [root], { stdio: 'inherit' });
  app.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  say(`Lifeboat: ${why}, so it opens in your browser instead, through its local web host.`);
  const host = spawn(process.execPath, [path.join(root, 'bin', 'lifeboat.js'), 'serve', ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'] });
  let printed = '';
  let opened = false;
  host.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    printed += chunk.toString();
    const url = /http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+/.exec(printed)?.[0];
    if (url && !opened) {
      opened = true;
      openInBrowser(url);
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => host.kill(signal));
  host.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
