import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CARD_FILE, type Artifact, type Manifest } from '../../shared/manifest.js';
import type { DrillCheck, DrillReport } from '../../shared/drill.js';
import type { Progress } from '../../shared/progress.js';
import { cancelled } from './errors.js';
import { faultPoint } from './fault-points.js';
import { timedCheck } from './checks.js';
import { checksumList, readManifest } from './manifest.js';
import { hashFile } from './pipeline.js';
import { artifactReader } from './codec/index.js';
import { recordedSet } from './store/index.js';
import { ProgressMeter } from './progress.js';
import { pluginFor } from './sources/index.js';

/**
 * Files a sealed set holds besides its artifacts. Nothing else belongs in it, hidden names
 * included: the backup's own dot-entries (partial folders, locks, pins) live beside sets, and its
 * scratch folder is removed before the set is sealed.
 */
const SET_FILES = new Set(['manifest.json', CARD_FILE, 'SHA256SUMS']);

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
    checks.push({
      target: 'manifest.json',
      name: read.error.code === 'NEWER_FORMAT' ? 'manifest format' : 'manifest readable',
      status: 'FAIL',
      reason: `${read.error.message} ${read.error.hint}`,
      durationMs: 0,
    });
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
  const listed = await fs.readdir(setDir, { withFileTypes: true });
  const present = new Set(listed.map((d) => d.name));
  const expectedFiles = new Set(manifest.artifacts.map((a) => a.file));
  // A link or folder in place of a set file: a sealed set holds its own bytes, none reached through a link.
  const notFiles = listed
    .filter((d) => !d.isFile() && (expectedFiles.has(d.name) || SET_FILES.has(d.name)))
    .map((d) => `${d.name} (${d.isSymbolicLink() ? 'a link' : d.isDirectory() ? 'a folder' : 'not a regular file'})`);
  const missing = [...expectedFiles].filter((f) => !present.has(f));
  const extra = [...present].filter((f) => !expectedFiles.has(f) && !SET_FILES.has(f));
  await timedCheck(checks, 'set', 'every recorded artifact present', async () => {
    if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
    return `${expectedFiles.size} artifacts`;
  });
  await timedCheck(checks, 'set', 'no unexpected files', async () => {
    const problems: string[] = [];
    if (extra.length) problems.push(`not in the manifest: ${extra.join(', ')}`);
    if (notFiles.length) problems.push(`not plain files: ${notFiles.join(', ')}`);
    if (problems.length) throw new Error(problems.join('; '));
    return 'only the manifest, RESTORE.txt, SHA256SUMS and the artifacts, all plain files; hidden names included';
  });
  await timedCheck(checks, 'SHA256SUMS', 'checksum list agrees with the manifest', async () => {
    const text = await fs.readFile(path.join(setDir, 'SHA256SUMS'), 'utf8');
    if (text !== checksumList(manifest)) throw new Error('SHA256SUMS differs from the manifest; `sha256sum -c SHA256SUMS` would check the wrong values');
    return `${manifest.artifacts.length + (manifest.recoveryCard ? 1 : 0)} lines`;
  });
  await checkCard(checks, setDir, manifest, signal);

  // Bytes first: an artifact whose bytes are wrong gets no content checks (they would prove nothing).
  const sound: Artifact[] = [];
  const reader = artifactReader(recordedSet(setDir).set);
  progress.setPhase('hash');
  for (const a of manifest.artifacts.filter((x) => !missing.includes(x.file))) {
    if (signal.aborted) throw cancelled();
    const ok = await timedCheck(checks, a.file, 'size and SHA-256 as recorded', async () => {
      // Counted per chunk: a large artifact is progress all along, not once at its end.
      await reader.verify(a, { signal, onBytes: (n) => progress.addBytes(n) });
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
      if (!plugin)
        return [{ target: artifacts[0]!.file, name: 'content checks', status: 'FAIL' as const, reason: `this Lifeboat has no checks for sources of kind "${kind}"; update Lifeboat`, durationMs: 0 }];
      if (!artifacts.every((a) => sound.includes(a))) return [];
      const dir = path.join(scratch, source);
      await fs.mkdir(dir, { mode: 0o700 });
      const config = manifest.environment.sources.find((s) => s.name === source);
      return plugin.check({ source, artifacts, reader, scratch: dir, signal, progress, config });
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

/**
 * The recovery card's bytes against the manifest's record. Sets made before the card was
 * recorded pass on its presence alone, saying so: their card is advice for a restore by hand,
 * which Lifeboat's own restore never reads, and failing them would condemn sound sets.
 */
async function checkCard(checks: DrillCheck[], setDir: string, manifest: Manifest, signal: AbortSignal): Promise<void> {
  await timedCheck(checks, CARD_FILE, 'size and SHA-256 as recorded', async () => {
    const file = path.join(setDir, CARD_FILE);
    const got = await hashFile(file, signal).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`the set has no ${CARD_FILE}; every sealed set carries one`);
      throw err;
    });
    const want = manifest.recoveryCard;
    if (!want)
      return `present, ${got.size} bytes; its SHA-256 is not recorded in sets made before the manifest recorded the card (no "recoveryCard" field), so its text was not compared; Lifeboat's restore does not read it`;
    if (got.size !== want.size) throw new Error(`${got.size} bytes, the manifest records ${want.size}: the recovery card was changed or damaged; its steps cannot be trusted`);
    if (got.sha256 !== want.sha256) throw new Error(`SHA-256 is ${got.sha256}, the manifest records ${want.sha256}: the recovery card was changed or damaged; its steps cannot be trusted`);
    return `${want.size} bytes, SHA-256 ${want.sha256.slice(0, 16)}…`;
  });
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
