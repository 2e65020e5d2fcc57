#!/usr/bin/env node
// The layer check (`npm run lint`): fails when an import points the wrong way.
//   electron/engine/  never imports `electron`, a door (electron/*.ts) or renderer/ (package.json, for its version, is data);
//   shared/           imports only zod and shared/ (it runs in the renderer too);
//   renderer/         imports only shared/ and its own files (and npm packages).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function files(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(files(full));
    else if (/\.(ts|js|mjs|svelte)$/.test(name)) out.push(full);
  }
  return out;
}

const rules = [
  {
    layer: 'electron/engine',
    bad: (spec, target) =>
      spec === 'electron' || spec.startsWith('electron/') ? 'imports electron (the engine must run under plain Node)'
      : target && target !== 'package.json' && !target.startsWith('electron/engine/') && !target.startsWith('shared/') ? `imports ${target} (the engine imports only itself, shared/ and package.json's data)`
      : null,
  },
  {
    layer: 'shared',
    bad: (spec, target) =>
      target ? (target.startsWith('shared/') ? null : `imports ${target} (shared/ imports only shared/)`)
      : spec === 'zod' ? null : `imports ${spec} (shared/ runs in the renderer: zod only)`,
  },
  {
    layer: 'renderer',
    // The build's own configuration runs in Node at build time; it is not code the page runs.
    skip: ['renderer/vite.config.ts'],
    bad: (spec, target) =>
      spec === 'electron' || spec.startsWith('node:') ? `imports ${spec} (the renderer knows only shared/)`
      : target && !target.startsWith('renderer/') && !target.startsWith('shared/') ? `imports ${target} (the renderer imports only shared/)`
      : null,
  },
];

const problems = [];
for (const rule of rules) {
  for (const file of files(path.join(root, rule.layer))) {
    if (rule.skip?.includes(path.relative(root, file))) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const target = spec.startsWith('.') ? path.relative(root, path.resolve(path.dirname(file), spec)) : null;
      const why = rule.bad(spec, target);
      if (why) problems.push(`${path.relative(root, file)}: ${why}`);
    }
  }
}
if (problems.length) {
  console.error(`Layer check failed (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('Layer check passed: engine, shared and renderer import only what their layer allows.');
