#!/usr/bin/env node
// The layer check (`npm run lint`): fails when an import points the wrong way, when imports go round in a
// cycle, or when a grep rule finds a pattern outside the files allowed to hold it.
//   electron/engine/  never imports `electron`, a door (electron/*.ts) or renderer/ (package.json, for its version, is data);
//   doors             (electron/*.ts) import the engine, shared/ and each other; cli.ts and web*.ts run under
//                     plain Node, so never the desktop app's files; preload.ts is bundled for the page: only
//                     `electron`, shared/ and app-channels.ts;
//   shared/           imports only zod and shared/ (it runs in the renderer too);
//   renderer/         imports only shared/ and its own files (and npm packages), never a Node built-in.
// `node test/tools/check-layers.js [--root DIR]` checks DIR (the repository by default); the unit test uses --root.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * Patterns that may appear only in the files (or folders, ending in `/`) listed, each with why: one place for
 * every "only X does Y" rule of the architecture. Only rules that hold today are on; the comments name the
 * rules to switch on when the set store and the artifact codec are merged.
 */
export const GREP_RULES = [
  {
    pattern: /\bfrom\s+['"]electron['"]|require\(\s*['"]electron['"]\s*\)/,
    allowed: ['electron/main.ts', 'electron/preload.ts', 'electron/app-ipc.ts', 'electron/app-protocol.ts', 'electron/window-options.ts'],
    why: "only the desktop app's own files import `electron`; the engine, the CLI and the web host run under plain Node",
  },
  {
    pattern: /\bfrom\s+['"](?:node:)?zlib['"]/,
    allowed: ['electron/engine/codec/'],
    why: 'compression is a stage of the artifact codec, not something each plug-in does for itself',
  },
  {
    pattern: /\bcreateReadStream\b/,
    // The store opens stored files; the others read live data, never an artifact: hashFile (live files, the
    // recovery card), the SQLite snapshot on its way to the codec, the files source's live files, a restore
    // test's command output, and the renderer's own files.
    allowed: [
      'electron/engine/store/',
      'electron/engine/pipeline.ts',
      'electron/engine/sources/sqlite/sqlite.ts',
      'electron/engine/sources/files/files.ts',
      'electron/engine/sources/command/command-restore.ts',
      'electron/web-static.ts',
    ],
    why: 'artifacts are read through the codec (which checks size, hash and the decompression budget), never opened by hand',
  },
  {
    pattern: /\bencryption:\s*'none'/,
    allowed: ['electron/engine/codec/', 'shared/manifest.ts'],
    why: "an artifact's stored fields (compression, encryption, size, hash) are the codec's to fill",
  },
  {
    pattern: /\b(?:join|resolve)\([^)]*\blocation\b/,
    allowed: ['electron/engine/store/'],
    why: 'a path inside a backup location is built only by the set store; everything else holds a store and set handles',
  },
];

/** The folders whose files are checked (tests and build scripts may import anything). */
const CHECKED = ['electron', 'shared', 'renderer'];
/** Node's own modules, with and without `node:`: the renderer and shared/ run in a page, where none exists. */
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (spec) => spec.startsWith('node:') || BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0]);
const isElectron = (spec) => spec === 'electron' || spec.startsWith('electron/');

/** A door that runs in the desktop app only (Electron's main process or its preload). */
const DESKTOP = /^electron\/(main|preload|app-[^/]+|window-options)\.ts$/;
const DOOR = /^electron\/[^/]+\.ts$/;

/**
 * Why `file` may not import `spec` (resolved to `target`, a repository path, when relative), or null.
 * `target` is null for packages and Node built-ins.
 */
function layerProblem(file, spec, target) {
  if (file.startsWith('electron/engine/')) {
    if (isElectron(spec)) return `imports ${spec} (the engine must run under plain Node)`;
    if (target && target !== 'package.json' && !target.startsWith('electron/engine/') && !target.startsWith('shared/'))
      return `imports ${target} (the engine imports only itself, shared/ and package.json's data; never a door or the renderer)`;
    return null;
  }
  if (DOOR.test(file)) {
    if (target && !target.startsWith('electron/') && !target.startsWith('shared/') && target !== 'package.json') return `imports ${target} (a door imports the engine, shared/ and other doors' files)`;
    if (file === 'electron/preload.ts') {
      if (target ? target !== 'electron/app-channels.ts' && !target.startsWith('shared/') : !isElectron(spec))
        return `imports ${target ?? spec} (the preload is bundled for the page: only electron, shared/ and app-channels.ts)`;
      return null;
    }
    if (!DESKTOP.test(file)) {
      if (isElectron(spec)) return `imports ${spec} (the CLI and the web host run under plain Node)`;
      if (target && DESKTOP.test(target)) return `imports ${target} (the CLI and the web host run under plain Node, without the desktop app's files)`;
    }
    return null;
  }
  if (file.startsWith('shared/')) {
    if (target) return target.startsWith('shared/') ? null : `imports ${target} (shared/ imports only shared/)`;
    return spec === 'zod' ? null : `imports ${spec} (shared/ runs in the renderer: zod only${isBuiltin(spec) ? ', no Node built-in' : ''})`;
  }
  if (file.startsWith('renderer/')) {
    // The build's own configuration runs in Node at build time; it is not code the page runs.
    if (file === 'renderer/vite.config.ts') return null;
    if (isElectron(spec)) return `imports ${spec} (the renderer knows only shared/)`;
    if (!target && isBuiltin(spec)) return `imports ${spec} (the renderer runs in a page: no Node built-in)`;
    if (target && !target.startsWith('renderer/') && !target.startsWith('shared/')) return `imports ${target} (the renderer imports only shared/)`;
  }
  return null;
}

const IMPORT = /(?:^|\n)\s*(import|export)(\s+type\b)?[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every import of a file: its specifier, and whether it is static and not type-only (so loaded with the file). */
function importsOf(text) {
  return [...text.matchAll(IMPORT)].map((m) => ({ spec: m[3] ?? m[4] ?? m[5] ?? m[6], loads: Boolean(m[3] ?? m[4]) && !m[2] }));
}

function sourceFiles(root, dir) {
  let entries;
  try {
    entries = readdirSync(path.join(root, dir));
  } catch {
    return [];
  }
  const out = [];
  for (const name of entries.sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const rel = `${dir}/${name}`;
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...sourceFiles(root, rel));
    else if (/\.(ts|js|mjs|svelte)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** The repository file a relative specifier names: TypeScript's `./x.js` means `./x.ts`. */
function resolve(root, file, spec) {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
  const candidates = [target, target.replace(/\.js$/, '.ts'), `${target}.ts`, `${target}/index.ts`];
  return candidates.find((c) => existsSync(path.join(root, c)) && statSync(path.join(root, c)).isFile()) ?? target;
}

/** One shortest cycle through `start` inside its strongly connected component, as a list of files. */
function cycleThrough(start, graph, component) {
  const back = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const at = queue.shift();
    for (const next of graph.get(at) ?? []) {
      if (!component.has(next)) continue;
      if (next === start) {
        const cycle = [start];
        for (let step = at; step !== start; step = back.get(step)) cycle.splice(1, 0, step);
        return [...cycle, start];
      }
      if (!back.has(next)) {
        back.set(next, at);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/** Strongly connected components (Tarjan) with more than one file, or one file importing itself. */
function cycles(graph) {
  let index = 0;
  const indexOf = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indexOf.get(w)));
    }
    if (low.get(v) !== indexOf.get(v)) return;
    const component = new Set();
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.add(w);
    } while (w !== v);
    if (component.size > 1 || graph.get(v)?.has(v)) found.push(component);
  };
  for (const v of [...graph.keys()].sort()) if (!indexOf.has(v)) visit(v);
  return found.map((component) => cycleThrough([...component].sort()[0], graph, component));
}

const allows = (allowed, file) => allowed.some((a) => (a.endsWith('/') ? file.startsWith(a) : file === a));

/** Every problem in the tree at `root`, as `file: why` lines. */
export function checkLayers(root, grepRules = GREP_RULES) {
  const problems = [];
  const graph = new Map();
  for (const file of CHECKED.flatMap((dir) => sourceFiles(root, dir))) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const loads = new Set();
    for (const { spec, loads: loaded } of importsOf(text)) {
      const target = spec.startsWith('.') ? resolve(root, file, spec) : null;
      const why = layerProblem(file, spec, target);
      if (why) problems.push(`${file}: ${why}`);
      if (target && loaded) loads.add(target);
    }
    graph.set(file, loads);
    for (const rule of grepRules) {
      if (allows(rule.allowed, file)) continue;
      const line = text.split('\n').findIndex((l) => rule.pattern.test(l));
      if (line >= 0) problems.push(`${file}:${line + 1}: matches ${rule.pattern} (${rule.why}; allowed only in ${rule.allowed.join(', ')})`);
    }
  }
  for (const cycle of cycles(graph)) problems.push(`${cycle[0]}: import cycle ${cycle.join(' → ')} (type-only imports do not count; break it by moving what both need into one place)`);
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const at = process.argv.indexOf('--root');
  const root = at > 0 ? path.resolve(process.argv[at + 1]) : path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  const problems = checkLayers(root);
  if (problems.length) {
    console.error(`Layer check failed (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('Layer check passed: engine, doors, shared and renderer import only what their layer allows, with no cycle, and every grep rule holds.');
}
