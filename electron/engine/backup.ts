import { createHash } from 'node:crypto';
import os from 'node:os';
import { environmentKey, type Environment } from '../../shared/environment.js';
import { CARD_FILE, MANIFEST_FORMAT, type Artifact, type Manifest } from '../../shared/manifest.js';
import type { Progress } from '../../shared/progress.js';
import { cancelled, fsError, LifeboatError, throwIfAborted } from './errors.js';
import { refuseOverlap } from './environment-file.js';
import { faultPoint } from './fault-points.js';
import { sealManifest } from './manifest.js';
import { ProgressMeter } from './progress.js';
import { recoveryCard } from './recovery-card.js';
import { isSetOf, setId } from './set-id.js';
import { pluginOf } from './sources/index.js';
import { openStore, type PartialSet, type SealedSet as StoredSet, type SetStore } from './store/index.js';
import { TOOL_VERSION } from './version.js';
import { artifactWriter } from './codec/index.js';

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
  /** The sealed set in its store (`set.dir` is the folder the catalog records). */
  set: StoredSet;
  /** The store it was sealed in. */
  store: SetStore;
  /** Partial folders and locks of killed runs that this run cleaned up first. */
  cleaned: string[];
}

/** How many sources are packed at once: compression runs on Node's thread pool, one per core. */
const PARALLEL_SOURCES = Math.max(1, Math.min(2, os.availableParallelism()));

/**
 * Backs up every source of an environment into one set. The set is written into a hidden partial
 * set of its store, every file made durable, then sealed: it appears whole or not at all.
 * Whatever fails or is cancelled, the partial set is discarded and the lock released.
 */
export async function runBackup(env: Environment, opts: BackupOptions): Promise<SealedSet> {
  const key = environmentKey(env);
  const signal = opts.signal ?? new AbortController().signal;
  const store = openStore(env.location);
  // Before the location is created or probed: through a link it may be the live data itself.
  await refuseOverlap(env);
  await store.prepare();
  const lock = opts.lockHeld ? null : await store.lock(key, { operation: 'backup', door: opts.door });
  let partial: PartialSet | undefined;
  try {
    await faultPoint('backup:locked', signal);
    const mine = (id: string) => isSetOf(id, env.app, env.name);
    const cleaned = await store.cleanPartials(mine);
    cleaned.push(...(await store.cleanDeletions(mine)));
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
    const listing = await store.list();
    const existing = new Set([...listing.sealed, ...listing.partial]);
    const id = setId(env.app, env.name, startedAt, (name) => existing.has(name) || !!opts.knownIds?.has(name));
    partial = await store.createPartial(id);

    const artifacts = await captureAll(env, partial, signal, progress);
    await partial.dropScratch();
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
    // Once the set has appeared, `discard` below leaves it alone.
    const sealed = await partial.seal({ manifest, card, beforeSeal: () => faultPoint('backup:manifest-written') });
    await faultPoint('backup:sealed');
    progress.report(true);
    return { manifest, set: sealed, store, cleaned };
  } catch (err) {
    if (signal.aborted && !(err instanceof LifeboatError && err.code !== 'CANCELLED')) throw cancelled();
    throw err instanceof LifeboatError ? err : (fsError(err, env.location, true) ?? err);
  } finally {
    if (partial) await partial.discard().catch(() => undefined);
    await lock?.release();
  }
}

/** Captures sources a few at a time, in the environment's order; the first failure stops the rest. */
async function captureAll(env: Environment, partial: PartialSet, outer: AbortSignal, progress: ProgressMeter): Promise<Artifact[]> {
  const writer = artifactWriter(partial);
  const { scratch } = partial;
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
        results[i] = await pluginOf(source).capture({ source: source as never, writer, scratch, signal: inner.signal, progress });
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
