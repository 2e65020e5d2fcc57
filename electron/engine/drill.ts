import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Artifact } from '../../shared/manifest.js';
import type { DrillCheck, DrillReport } from '../../shared/drill.js';
import type { Progress } from '../../shared/progress.js';
import { cancelled } from './errors.js';
import { faultPoint } from './fault-points.js';
import { timedCheck } from './checks.js';
import { readManifest } from './manifest.js';
import { hashFile } from './pipeline.js';
import { ProgressMeter } from './progress.js';
import { pluginFor } from './sources/index.js';

/** Files a sealed set holds besides its artifacts. */
const SET_FILES = new Set(['manifest.json', 'RESTORE.txt', 'SHA256SUMS']);

export interface DrillOptions {
  envKey: string;
  /** A folder for scratch copies; the drill makes and removes its own folder inside. */
  scratchRoot: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/**
 * Proves a sealed set restores, without touching live data: the manifest and its checksum, every
 * artifact's bytes, then each source's own checks on scratch copies. It never passes what it did
 * not check: a set with no artifact checked does not pass.
 */
export async function runDrill(setDir: string, opts: DrillOptions): Promise<DrillReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const signal = opts.signal ?? new AbortController().signal;
  const checks: DrillCheck[] = [];
  const setId = path.basename(setDir);
  const finish = (): DrillReport => ({
    setId,
    env: opts.envKey,
    path: setDir,
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
    passed: checks.length > 0 && checks.every((c) => c.status === 'PASS'),
    checks,
  });

  const read = await readManifest(setDir);
  if (!read.ok) {
    checks.push({ target: 'manifest.json', name: read.error.code === 'NEWER_FORMAT' ? 'manifest format' : 'manifest readable', status: 'FAIL', reason: `${read.error.message} ${read.error.hint}`, durationMs: 0 });
    return finish();
  }
  const { manifest } = read;
  checks.push({
    target: 'manifest.json',
    name: 'manifest checksum',
    status: read.digestMatches ? 'PASS' : 'FAIL',
    reason: read.digestMatches ? 'SHA-256 of the canonical body matches (catches damage, not tampering)' : 'the manifest was changed after the set was sealed; its SHA-256 no longer matches',
    durationMs: 0,
  });

  const progress = new ProgressMeter({ operation: 'drill', env: opts.envKey }, { bytes: totalBytes(manifest.artifacts), files: manifest.artifacts.length }, opts.onProgress);
  const present = new Set((await fs.readdir(setDir)).filter((n) => !n.startsWith('.')));
  const expected = new Set(manifest.artifacts.map((a) => a.file));
  const missing = [...expected].filter((f) => !present.has(f));
  const extra = [...present].filter((f) => !expected.has(f) && !SET_FILES.has(f));
  await timedCheck(checks, 'set', 'every recorded artifact present', async () => {
    if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
    return `${expected.size} artifacts`;
  });
  await timedCheck(checks, 'set', 'no unexpected files', async () => {
    if (extra.length) throw new Error(`not in the manifest: ${extra.join(', ')}`);
    return 'only the manifest, RESTORE.txt, SHA256SUMS and the artifacts';
  });
  await timedCheck(checks, 'SHA256SUMS', 'checksum list agrees with the manifest', async () => {
    const text = await fs.readFile(path.join(setDir, 'SHA256SUMS'), 'utf8');
    const want = manifest.artifacts.map((a) => `${a.sha256}  ${a.file}\n`).join('');
    if (text !== want) throw new Error('SHA256SUMS differs from the manifest; `sha256sum -c SHA256SUMS` would check the wrong values');
    return `${manifest.artifacts.length} lines`;
  });

  // Bytes first: an artifact whose bytes are wrong gets no content checks (they would prove nothing).
  const sound: Artifact[] = [];
  progress.setPhase('hash');
  for (const a of manifest.artifacts.filter((x) => !missing.includes(x.file))) {
    if (signal.aborted) throw cancelled();
    const ok = await timedCheck(checks, a.file, 'size and SHA-256 as recorded', async () => {
      // Counted per chunk: a large artifact is progress all along, not once at its end.
      const got = await hashFile(path.join(setDir, a.file), signal, (n) => progress.addBytes(n));
      if (got.size !== a.size) throw new Error(`${got.size} bytes, the manifest records ${a.size}: the artifact is truncated or damaged`);
      if (got.sha256 !== a.sha256) throw new Error(`SHA-256 is ${got.sha256}, the manifest records ${a.sha256}: the artifact is damaged`);
      return `${a.size} bytes, SHA-256 ${a.sha256.slice(0, 16)}…`;
    });
    if (ok) sound.push(a);
  }
  progress.setPhase('content checks');
  await faultPoint('drill:hashed', signal);

  const scratch = await fs.mkdtemp(path.join(await ensureDir(opts.scratchRoot), `drill-${setId}-`));
  try {
    const bySource = new Map<string, Artifact[]>();
    for (const a of manifest.artifacts) bySource.set(a.source, [...(bySource.get(a.source) ?? []), a]);
    const checkSource = async ([source, artifacts]: [string, Artifact[]]): Promise<DrillCheck[]> => {
      const kind = artifacts[0]!.kind;
      const plugin = pluginFor(kind);
      if (!plugin) return [{ target: artifacts[0]!.file, name: 'content checks', status: 'FAIL' as const, reason: `this Lifeboat has no checks for sources of kind "${kind}"; update Lifeboat`, durationMs: 0 }];
      if (!artifacts.every((a) => sound.includes(a))) return [];
      const dir = path.join(scratch, source);
      await fs.mkdir(dir, { mode: 0o700 });
      const config = manifest.environment.sources.find((s) => s.name === source);
      return plugin.check({ source, artifacts, setDir, scratch: dir, signal, progress, config });
    };
    // Two sources at a time: decompression runs on the thread pool, one per core, and memory
    // stays bounded however many sources the set holds.
    const results = new Array<DrillCheck[]>(bySource.size);
    const queue = [...bySource.entries()].map((job, i) => ({ job, i }));
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) results[next.i] = await checkSource(next.job);
    };
    await Promise.all([worker(), worker()]);
    for (const result of results) checks.push(...result);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  if (signal.aborted) throw cancelled();
  return finish();
}

function totalBytes(artifacts: Artifact[]): number {
  let n = 0;
  for (const a of artifacts) {
    n += a.size;
    if (a.details.type === 'sqlite') n += a.details.rawSize;
    if (a.details.type === 'archive') n += a.details.totalBytes;
    if (a.details.type === 'command-output') n += a.details.rawSize;
  }
  return n;
}

async function ensureDir(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
