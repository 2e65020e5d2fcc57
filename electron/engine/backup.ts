import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { environmentKey, type Environment } from '../../shared/environment.js';
import { CARD_FILE, MANIFEST_FORMAT, type Artifact, type Manifest } from '../../shared/manifest.js';
import type { Progress } from '../../shared/progress.js';
import { cancelled, fsError, LifeboatError, throwIfAborted } from './errors.js';
import { fsyncDir, makeFolders, writeNewFile } from './durable.js';
import { refuseOverlap } from './environment-file.js';
import { faultPoint } from './fault-points.js';
import { acquireLock } from './store/folder-lock.js';
import { probeLocation, virtualPlace, type LocationProblem } from './store/location-probe.js';
import { checksumList, sealManifest } from './manifest.js';
import { ProgressMeter } from './progress.js';
import { recoveryCard } from './recovery-card.js';
import { cleanDeletions } from './store/set-removal.js';
import { isSetOf, PARTIAL_PREFIX, setId } from './set-id.js';
import { pluginOf } from './sources/index.js';
import { TOOL_VERSION } from './version.js';

export interface BackupOptions {
  door: string;
  /** Why the set exists beyond a plain backup, e.g. `pre-restore`. */
  label?: string | null;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** The caller (a restore taking its safety backup) already holds the environment's lock. */
  lockHeld?: boolean;
  /** Set ids the environment already has anywhere (sets left in a location it had before): a new id differs from them too. */
  knownIds?: ReadonlySet<string>;
}

export interface SealedSet {
  manifest: Manifest;
  path: string;
  /** Partial folders and locks of killed runs that this run cleaned up first. */
  cleaned: string[];
}

/** How many sources are packed at once: compression runs on Node's thread pool, one per core. */
const PARALLEL_SOURCES = Math.max(1, Math.min(2, os.availableParallelism()));

/**
 * Backs up every source of an environment into one set. The set is written into a hidden partial
 * folder, every file and the folder fsynced, then renamed into place: it appears whole or not at
 * all. Whatever fails or is cancelled, the partial folder is removed and the lock released.
 */
export async function runBackup(env: Environment, opts: BackupOptions): Promise<SealedSet> {
  const key = environmentKey(env);
  const signal = opts.signal ?? new AbortController().signal;
  // Before the location is created or probed: through a link it may be the live data itself.
  await refuseOverlap(env);
  await ensureLocation(env.location);
  const lock = opts.lockHeld ? null : await acquireLock(env.location, key, { operation: 'backup', door: opts.door });
  let partial: string | undefined;
  try {
    await faultPoint('backup:locked', signal);
    const cleaned = await cleanPartials(env);
    cleaned.push(...(await cleanDeletions(env.location, env.app, env.name)));
    if (lock?.cleared) cleaned.unshift(`lock of a killed ${lock.cleared.operation} (process ${lock.cleared.pid}, started ${lock.cleared.startedAt})`);

    const totals = { bytes: 0, files: 0 };
    for (const source of env.sources) {
      throwIfAborted(signal);
      const estimate = await pluginOf(source).inspect(source, signal);
      totals.bytes += estimate.bytes;
      totals.files += estimate.files;
    }
    const progress = new ProgressMeter({ operation: 'backup', env: key }, totals, opts.onProgress);

    const startedAt = new Date();
    const existing = new Set(await fs.readdir(env.location));
    const id = setId(env.app, env.name, startedAt, (name) => existing.has(name) || existing.has(PARTIAL_PREFIX + name) || !!opts.knownIds?.has(name));
    partial = path.join(env.location, PARTIAL_PREFIX + id);
    const scratch = path.join(partial, '.scratch');
    await fs.mkdir(partial, { mode: 0o700 });
    await fs.mkdir(scratch, { mode: 0o700 });

    const artifacts = await captureAll(env, partial, scratch, signal, progress);
    await fs.rm(scratch, { recursive: true, force: true });
    await faultPoint('backup:artifacts-written');
    throwIfAborted(signal);

    progress.setPhase('seal');
    const described: Omit<Manifest, 'integrity'> = {
      format: MANIFEST_FORMAT,
      id,
      app: env.app,
      env: env.name,
      label: opts.label ?? null,
      tool: { name: 'lifeboat', version: TOOL_VERSION },
      host: os.hostname(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      environment: env,
      artifacts,
    };
    // The card describes the set; the manifest then records the card's own bytes, and
    // SHA256SUMS lists it after the artifacts, so `sha256sum -c` checks every file but the manifest.
    const card = Buffer.from(recoveryCard(described));
    const cardSha256 = createHash('sha256').update(card).digest('hex');
    const manifest = sealManifest({ ...described, recoveryCard: { file: CARD_FILE, size: card.length, sha256: cardSha256 } });
    await writeNewFile(path.join(partial, 'SHA256SUMS'), checksumList(manifest));
    await writeNewFile(path.join(partial, CARD_FILE), card);
    await writeNewFile(path.join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await fsyncDir(partial);
    await faultPoint('backup:manifest-written');
    const final = path.join(env.location, id);
    await fs.rename(partial, final);
    partial = undefined;
    await fsyncDir(env.location);
    await faultPoint('backup:sealed');
    progress.report(true);
    return { manifest, path: final, cleaned };
  } catch (err) {
    if (signal.aborted && !(err instanceof LifeboatError && err.code !== 'CANCELLED')) throw cancelled();
    throw err instanceof LifeboatError ? err : (fsError(err, env.location, true) ?? err);
  } finally {
    if (partial) await fs.rm(partial, { recursive: true, force: true }).catch(() => undefined);
    await lock?.release();
  }
}

/** Captures sources a few at a time, in the environment's order; the first failure stops the rest. */
async function captureAll(env: Environment, dir: string, scratch: string, outer: AbortSignal, progress: ProgressMeter): Promise<Artifact[]> {
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  outer.addEventListener('abort', onAbort, { once: true });
  const results: Artifact[][] = new Array(env.sources.length);
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < env.sources.length && !inner.signal.aborted) {
      const i = next++;
      const source = env.sources[i]!;
      try {
        results[i] = await pluginOf(source).capture({ source: source as never, dir, scratch, signal: inner.signal, progress });
      } catch (err) {
        const isCancel = err instanceof LifeboatError && err.code === 'CANCELLED';
        if (firstError === undefined || (!isCancel && firstError instanceof LifeboatError && firstError.code === 'CANCELLED')) firstError = err;
        inner.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: PARALLEL_SOURCES }, worker));
  } finally {
    outer.removeEventListener('abort', onAbort);
  }
  if (outer.aborted) throw cancelled();
  if (firstError !== undefined) throw firstError;
  return results.flat();
}

/**
 * Refuses a location that cannot hold backups, then creates it: a location can go bad after it
 * was imported (a disk remounted read-only, full, or a path under /proc saved by hand).
 */
async function ensureLocation(location: string): Promise<void> {
  const refuse = (p: LocationProblem) => new LifeboatError(p.code, `The backup location ${p.message}.`, `${p.hint} Nothing was written.`);
  const virtual = virtualPlace(location);
  if (virtual) throw refuse(virtual);
  try {
    await makeFolders(location, 0o700);
  } catch (err) {
    throw fsError(err, location, true) ?? new LifeboatError('LOCATION_UNWRITABLE', `The backup location ${location} cannot be created: ${(err as Error).message}.`, 'Choose a location on a writable disk that the user running Lifeboat owns.');
  }
  const verdict = await probeLocation(location);
  if (!verdict.ok) throw refuse(verdict.problem);
}

/** Removes partial folders that killed runs of this environment left behind; we hold its lock. */
async function cleanPartials(env: Environment): Promise<string[]> {
  const cleaned: string[] = [];
  for (const name of await fs.readdir(env.location)) {
    if (!name.startsWith(PARTIAL_PREFIX) || !isSetOf(name.slice(PARTIAL_PREFIX.length), env.app, env.name)) continue;
    await fs.rm(path.join(env.location, name), { recursive: true, force: true });
    cleaned.push(`partial folder ${name} of an interrupted backup`);
  }
  return cleaned;
}
