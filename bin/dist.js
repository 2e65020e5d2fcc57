#!/usr/bin/env node
// `npm run dist [-- --linux|--mac|--win] [-- --x64|--arm64]`: the desktop packages, through
// electron-builder and build/electron-builder.yml. electron-builder needs two downloads that npm does
// not make: Electron's binary for the target and Electron's headers (to rebuild the native SQLite
// module). Both are looked for first, each within a bounded time, so a machine that cannot fetch them
// gets one line saying what is missing and what to do, and exit 1, instead of a stack trace or a
// rebuild that waits on the network for minutes (and leaves the SQLite module unbuilt meanwhile).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
/** How long one download check may take: a network that does not answer is a network that is not there. */
const PROBE_MS = Number(process.env.LIFEBOAT_DIST_PROBE_SECONDS ?? 15) * 1000;

function fail(line) {
  process.stderr.write(`lifeboat dist: ${line}\n`);
  process.exit(1);
}

const electronPkg = path.join(root, 'node_modules', 'electron');
const builderCli = path.join(root, 'node_modules', 'electron-builder', 'cli.js');
if (!existsSync(path.join(electronPkg, 'package.json')) || !existsSync(builderCli)) fail('electron and electron-builder are not installed here; run `npm install` first.');
const version = JSON.parse(readFileSync(path.join(electronPkg, 'package.json'), 'utf8')).version;

const platforms = { '--linux': 'linux', '-l': 'linux', '--mac': 'darwin', '-m': 'darwin', '--win': 'win32', '-w': 'win32' };
const platform = args.map((a) => platforms[a]).find(Boolean) ?? process.platform;
const arch = ['x64', 'arm64', 'ia32', 'armv7l'].find((a) => args.includes(`--${a}`)) ?? process.arch;
const flag = Object.entries(platforms).find(([, p]) => p === platform)?.[0];

/** Electron's own unpacked binary (`node node_modules/electron/install.js`), usable when building for this machine. */
function localDist() {
  const dir = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(electronPkg, 'dist');
  const pathFile = path.join(electronPkg, 'path.txt');
  if (platform !== process.platform || arch !== process.arch || !existsSync(pathFile)) return null;
  return existsSync(path.join(dir, readFileSync(pathFile, 'utf8').trim())) ? dir : null;
}

/** Null when the URL answers with the file, otherwise why not (a status, or the network's error code). */
async function unreachable(url) {
  try {
    const res = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(PROBE_MS) });
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    if (err?.name === 'TimeoutError') return `no answer in ${PROBE_MS / 1000} s`;
    return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(err);
  }
}

const dist = localDist();
if (!dist) {
  const mirror = process.env.ELECTRON_MIRROR ?? 'https://github.com/electron/electron/releases/download/';
  const dir = (process.env.ELECTRON_CUSTOM_DIR ?? 'v{{ version }}').replace('{{ version }}', version);
  const zip = `electron-v${version}-${platform}-${arch}.zip`;
  const why = await unreachable(new URL(`${dir}/${zip}`, mirror.endsWith('/') ? mirror : `${mirror}/`).href);
  if (why)
    fail(
      `Electron ${version}'s binary (${zip}) cannot be fetched from ${new URL(mirror).host} (${why}); run \`npm run dist\` on a machine that can reach it, or set ELECTRON_MIRROR to a mirror that has it.`,
    );
}
// The SQLite module is rebuilt for Electron's ABI against Electron's headers (node-gyp keeps them in ~/.electron-gyp).
if (!existsSync(path.join(os.homedir(), '.electron-gyp', version))) {
  const headers = process.env.npm_config_electron_mirror ?? 'https://electronjs.org/headers';
  const why = await unreachable(`${headers.replace(/\/$/, '')}/v${version}/node-v${version}-headers.tar.gz`);
  if (why)
    fail(`Electron ${version}'s headers, needed to build the SQLite module for it, cannot be fetched from ${new URL(headers).host} (${why}); run \`npm run dist\` on a machine that can reach it.`);
}

const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) fail('`npm run build` failed (above); the packages need out/ built first.');

// electron-builder rebuilds node_modules/better-sqlite3 in place for Electron; the command line and the
// tests run on Node, so the Node build is put back afterwards, whatever the outcome.
const nodeBuild = path.join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
const kept = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-dist-'));
if (existsSync(nodeBuild)) copyFileSync(nodeBuild, path.join(kept, 'better_sqlite3.node'));
const restore = () => {
  if (existsSync(path.join(kept, 'better_sqlite3.node'))) {
    mkdirSync(path.dirname(nodeBuild), { recursive: true });
    copyFileSync(path.join(kept, 'better_sqlite3.node'), nodeBuild);
  }
  rmSync(kept, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => undefined);
const builderArgs = ['--config', 'build/electron-builder.yml', ...(args.some((a) => platforms[a]) ? [] : [flag]), ...args, ...(dist ? [`-c.electronDist=${dist}`] : [])];
const run = spawnSync(process.execPath, [builderCli, ...builderArgs], { cwd: root, stdio: 'inherit' });
restore();
process.exit(run.status ?? 1);
