import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { api } from '../../shared/api.js';
import { kindDescriptions } from '../../electron/engine/sources/index.js';

/**
 * Issue 13: what a source kind is and does lives in its folder (`electron/engine/sources/<kind>/`)
 * and in the contract's schema (`shared/`); everything else asks the kind's descriptor. So a kind's
 * name, as a string, appears nowhere else: no `kind === 'postgres'`, no `case 'sqlite':`, no
 * `addSource('files')`. Adding a kind is then one folder and one line in `sources/index.ts`.
 */
const KIND_NAME = /(['"`])(sqlite|files|postgres|command)\1/;

/**
 * Where a kind's name may still be written outside, and why: a contract shape's `type` tag (a restore
 * preview or an artifact's details, whose shapes are the contract's, in shared/) is tested by its
 * shape's own name, and the demo is data written as an environment file would be.
 */
const ALLOWED: { file: string; line: RegExp; why: string }[] = [
  { file: '*', line: /\.type\s*[!=]==\s*'(files|command|sqlite)'/, why: "a restore preview's or an artifact's shape tag (shared/restore.ts, shared/manifest.ts)" },
  { file: 'electron/engine/codec/checks.ts', line: /case 'sqlite':/, why: "the decompression budget, read from an artifact's details by their shape tag (shared/manifest.ts)" },
  { file: 'electron/engine/demo.ts', line: /kind: '(sqlite|files)'/, why: 'the demo environment, written as its file would be' },
  { file: 'electron/engine/system-timer.ts', line: /TimerPlan\['files'\]/, why: "a timer plan's `files` field, not a kind" },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|svelte|js|mjs|cjs)$/.test(e.name) ? [p] : [];
  });
}

/** A kind's own folder: `electron/engine/sources/<kind>/…` (not `common/`, not the registry beside them). */
const inKindFolder = (file: string) => /^electron\/engine\/sources\/(?!common\/)[^/]+\//.test(file);

describe('the boundary of source kinds', () => {
  it('names no kind outside its folder and the contract: everything else asks the descriptor', () => {
    const found: string[] = [];
    for (const file of [...sourceFiles('electron'), ...sourceFiles('renderer/src')].map((f) => f.split(path.sep).join('/'))) {
      if (inKindFolder(file)) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, n) => {
          if (!KIND_NAME.test(line)) return;
          if (ALLOWED.some((a) => (a.file === '*' || a.file === file) && a.line.test(line))) return;
          found.push(`${file}:${n + 1}: ${line.trim().slice(0, 160)}`);
        });
    }
    expect(found, "move this into the kind's folder (its descriptor in sources/<kind>/index.ts) or read it through kinds.list").toEqual([]);
  });

  it('registers each kind folder once, in one list', () => {
    const root = 'electron/engine/sources';
    const folders = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'common')
      .map((e) => e.name)
      .sort();
    const registry = readFileSync(path.join(root, 'index.ts'), 'utf8');
    const registered = [...registry.matchAll(/from '\.\/([^/]+)\/index\.js'/g)].map((m) => m[1]).sort();
    expect(registered).toEqual(folders);
  });

  it("answers kinds.list with every kind's description, as the contract's schema says", () => {
    const kinds = kindDescriptions();
    expect(api['kinds.list'].result.parse(kinds)).toEqual(kinds);
    expect(kinds.map((k) => k.addButton)).toEqual(['+ SQLite database', '+ Folder', '+ PostgreSQL database', '+ Dump command']);
    for (const k of kinds) {
      const keys = k.fields.map((f) => f.key);
      expect(new Set(keys).size, k.kind).toBe(keys.length);
    }
  });
});
