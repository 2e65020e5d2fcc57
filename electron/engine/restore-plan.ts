import { promises as fs } from 'node:fs';
import path from 'node:path';
import { environmentKey, type Environment, type Source } from '../../shared/environment.js';
import type { Artifact, Manifest } from '../../shared/manifest.js';
import type { DrillCheck, DrillReport } from '../../shared/drill.js';
import type { FolderCheck, RestorePreview, SourcePreview } from '../../shared/restore.js';
import { count, formatBytes } from '../../shared/format.js';
import { timedCheck } from './checks.js';
import { FULL_PATH, inside, isFullPath, realPathOf, resolvePath } from './environment-file.js';
import { LifeboatError } from './errors.js';
import { ProgressMeter } from './progress.js';
import { kindOf, pluginOf, restorerOf } from './sources/index.js';
import type { RestoreContext, RestoreDestination } from './sources/common/types.js';
import { artifactReader } from './codec/index.js';
import { openStore, type SealedSet, type StoreDisk } from './store/index.js';

export interface RestoreTarget {
  source: Source;
  artifacts: Artifact[];
  target: string;
}

export interface RestorePlan {
  manifest: Manifest;
  targets: RestoreTarget[];
  /** Null for a restore over the live data. */
  destination: RestoreDestination | null;
  preview: RestorePreview;
}

export interface PlanRequest {
  /** Restore into this folder instead of the live paths ("restore test"). */
  to?: string;
  /** Restore database sources into this new database instead of their live one ("restore test"). */
  toDatabase?: string;
  /** Produces the set's drill report: a recorded one may do for a preview, never for the restore itself. */
  drill: () => Promise<DrillReport>;
  signal: AbortSignal;
  /** What the operator types to confirm a live restore of a protected environment (see confirmation.ts). */
  confirmName: string;
}

/** The name of the pre-flight check that a source's restore programs are there. */
export const RESTORE_PROGRAMS_CHECK = 'restore programs ready';
/** The pre-flight's name for the drill of the set to restore. */
export const RESTORE_DRILL_CHECK = 'drill of the set';

/** The context every restore step of one target is given. */
export function contextOf(t: RestoreTarget, set: SealedSet, destination: RestoreDestination | null, signal: AbortSignal, progress: ProgressMeter): RestoreContext {
  return { source: t.source, artifacts: t.artifacts, reader: artifactReader(set), target: t.target, destination, signal, progress };
}

/** The restore test's destination, or null for a restore over the live data. */
export function destinationOf(req: { to?: string; toDatabase?: string }): RestoreDestination | null {
  if (!req.to && !req.toDatabase) return null;
  return { ...(req.to ? { folder: resolvePath(req.to, process.cwd()) } : {}), ...(req.toDatabase ? { database: req.toDatabase } : {}) };
}

/** The set's manifest and where each of its sources goes; throws when a source cannot be placed. Reads only. */
export async function restoreTargets(env: Environment, set: SealedSet, req: { to?: string; toDatabase?: string }): Promise<Omit<RestorePlan, 'preview'>> {
  const read = await set.readManifest();
  if (!read.ok) throw read.error;
  const manifest = read.manifest;
  const destination = destinationOf(req);
  const live = destination === null;
  const names = [...new Set(manifest.artifacts.map((a) => a.source))];
  const targets: RestoreTarget[] = names.map((name) => {
    const configured = env.sources.find((s) => s.name === name);
    const recorded = manifest.environment.sources.find((s) => s.name === name);
    const source = configured ?? recorded;
    if (!source || (live && !configured)) {
      throw new LifeboatError(
        'BAD_ARGUMENT',
        `Source "${name}" of set ${manifest.id} is no longer in ${environmentKey(env)}.`,
        'Restore the set to another folder (--to DIR) and move the data by hand, or add the source back to the environment.',
      );
    }
    if (recorded && recorded.kind !== source.kind) {
      throw new LifeboatError('BAD_ARGUMENT', `Source "${name}" was a ${recorded.kind} source in the set and is a ${source.kind} source now.`, 'Restore the set to another folder (--to DIR) instead.');
    }
    return { source, artifacts: manifest.artifacts.filter((a) => a.source === name), target: restorerOf(source).target(source, destination) };
  });
  const seen = new Map<string, string>();
  for (const t of targets) {
    const other = seen.get(t.target);
    if (other)
      throw new LifeboatError(
        'BAD_ARGUMENT',
        `Sources "${other}" and "${t.source.name}" would both be restored into ${t.target}.`,
        'Restore them one at a time, or give each its own place in the environment.',
      );
    seen.set(t.target, t.source.name);
  }
  return { manifest, targets, destination };
}

/**
 * Works out what a restore of a set would do, and checks everything that can be checked before
 * anything is written: the drill, the targets in use, free space. Reads only.
 */
export async function planRestore(env: Environment, set: SealedSet, req: PlanRequest): Promise<RestorePlan> {
  const { manifest, targets, destination } = await restoreTargets(env, set, req);
  const live = destination === null;
  const progress = new ProgressMeter({ operation: 'restore', env: environmentKey(env) }, { bytes: 0, files: 0 }, undefined);
  const ctx = (t: RestoreTarget) => contextOf(t, set, destination, req.signal, progress);
  const sources = await Promise.all(targets.map((t) => restorerOf(t.source).preview(ctx(t))));
  const preflight = await preflightChecks(env, set, { targets, destination }, req);
  if (live) preflight.push(...ownersChecks(sources));
  const protectedLive = live && env.protection === 'protected';
  const preview: RestorePreview = {
    env: environmentKey(env),
    setId: manifest.id,
    mode: live ? 'live' : 'elsewhere',
    sources,
    safetyLocation: live ? env.location : null,
    needsConfirmation: protectedLive,
    confirmAs: protectedLive ? req.confirmName : null,
    preflight,
    ready: preflight.every((c) => c.status !== 'FAIL'),
  };
  return { manifest, targets, destination, preview };
}

/**
 * The pre-flight of a restore: the set's drill, then (live) each target not in use, or (elsewhere)
 * an empty folder and each kind's own destination check, the restore programs, and free space.
 * The restore runs these before it writes; `restore.preflight` runs them for a screen. Reads only.
 */
export async function preflightChecks(env: Environment, set: SealedSet, plan: Pick<RestorePlan, 'targets' | 'destination'>, req: Pick<PlanRequest, 'drill' | 'signal'>): Promise<DrillCheck[]> {
  const { targets, destination } = plan;
  const live = destination === null;
  const progress = new ProgressMeter({ operation: 'restore', env: environmentKey(env) }, { bytes: 0, files: 0 }, undefined);
  const ctx = (t: RestoreTarget) => contextOf(t, set, destination, req.signal, progress);
  const preflight: DrillCheck[] = [];
  const t0 = performance.now();
  const report = await req.drill();
  const failed = report.checks.filter((c) => c.status === 'FAIL');
  preflight.push({
    target: 'set',
    name: RESTORE_DRILL_CHECK,
    status: report.passed ? 'PASS' : 'FAIL',
    reason: report.passed ? `${report.checks.length} checks passed (${report.startedAt})` : `the drill failed: ${failed.map((c) => `${c.target}: ${c.name} — ${c.reason}`).join('; ')}`,
    durationMs: performance.now() - t0,
  });

  if (live) {
    for (const t of targets) {
      const started = performance.now();
      const use = await restorerOf(t.source).inUse(t.source, t.target);
      const base = { target: t.target, name: 'not in use', durationMs: performance.now() - started };
      if (use.status === 'busy') preflight.push({ ...base, status: 'FAIL', reason: `in use by ${use.holders.join('; ')}; close it` });
      else if (use.status === 'unknown') preflight.push({ ...base, status: 'WARN', reason: `could not be checked fully: ${use.reason}` });
      else preflight.push({ ...base, status: 'PASS', reason: use.how });
    }
  } else {
    const to = destination.folder;
    if (to) {
      const folder = isFullPath(to) ? resolvePath(to, '/') : to;
      const apart = isFullPath(to) ? await apartFromEnvironment(folder, env) : undefined;
      preflight.push({ target: folder, name: DESTINATION_APART_CHECK, status: apart ? 'FAIL' : 'PASS', reason: apart ?? 'outside the live folders and the backup location', durationMs: 0 });
      const check = await folderCheck(to);
      preflight.push({ target: check.folder, name: DESTINATION_EMPTY_CHECK, status: check.status, reason: check.reason, durationMs: 0 });
    }
    for (const t of targets) {
      const own = restorerOf(t.source).destinationCheck;
      if (own) preflight.push(await own(ctx(t)));
    }
  }

  for (const t of targets) {
    const ready = restorerOf(t.source).programsReady;
    if (ready) await timedCheck(preflight, t.target, RESTORE_PROGRAMS_CHECK, () => ready(ctx(t)));
  }
  preflight.push(await spaceCheck(env, targets, live, ctx));
  return preflight;
}

/** The name of the pre-flight check that a restore test's folder is apart from live data and sets. */
export const DESTINATION_APART_CHECK = 'destination apart from live data';

/** The name of the pre-flight check that a restore test's folder is empty or new. */
export const DESTINATION_EMPTY_CHECK = 'destination is empty';

/**
 * The rule for a restore test's folder: a full path to a folder that is empty or does not exist
 * yet (the restore creates it), so nothing there is ever overwritten or mixed with the set; given
 * the environment, also apart from its live folders and its backup location (both checks in one
 * answer, for the folder field as it is typed).
 */
export async function folderCheck(to: string, env?: Environment): Promise<FolderCheck> {
  if (!isFullPath(to)) return { folder: to, status: 'FAIL', reason: `"${to}" is not a full path; ${FULL_PATH}` };
  const folder = resolvePath(to, '/');
  const fail = (reason: string): FolderCheck => ({ folder, status: 'FAIL', reason });
  const apart = env ? await apartFromEnvironment(folder, env) : undefined;
  if (apart) return fail(apart);
  let entries: string[];
  try {
    entries = await fs.readdir(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { folder, status: 'PASS', reason: `${folder} does not exist yet; the restore creates it` };
    if (code === 'ENOTDIR')
      return fail(
        (await fs.stat(folder).then(
          () => true,
          () => false,
        ))
          ? `${folder} is a file, not a folder; choose an empty or new folder`
          : `a part of ${folder} is a file, not a folder; choose an empty or new folder`,
      );
    return fail(`${folder} cannot be read (${code ?? (err as Error).message}); choose a folder you may write to`);
  }
  if (!entries.length) return { folder, status: 'PASS', reason: 'nothing there will be overwritten' };
  const named = entries.sort().slice(0, 3).join(', ');
  return fail(`${folder} already holds ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} (${named}${entries.length > 3 ? ', …' : ''}); choose an empty or new folder`);
}

/**
 * Why a restore test's folder would mix the set into live data or backups, compared by real path
 * (links resolved): inside a files source's folder the next backup would take the test copy as
 * live data; inside the backup location it would sit among the sets.
 */
async function apartFromEnvironment(folder: string, env: Environment): Promise<string | undefined> {
  const real = await realPathOf(folder);
  const via = real === folder ? '' : ` (it leads to ${real})`;
  for (const s of env.sources) {
    const data = kindOf(s).livePath(s);
    if (!data?.folder) continue;
    const live = await realPathOf(data.path);
    if (inside(real, live))
      return `${folder}${via} is inside the live folder of source "${s.name}" (${live}); the test copy would be mixed with live data and taken by the next backup. Choose a folder outside it`;
  }
  const location = await realPathOf(env.location);
  if (inside(real, location)) return `${folder}${via} is inside the backup location ${env.location}; keep restore tests apart from the sets. Choose a folder outside it`;
  return undefined;
}

/** The name of the pre-flight check that every restored path can keep its owner. */
export const OWNERS_CHECK = 'owners can be kept';

/**
 * Over the live data, for each source with files: WARN naming the paths that would get another
 * owner or group than they have (Lifeboat is not root), so the operator knows before the swap.
 */
function ownersChecks(sources: SourcePreview[]): DrillCheck[] {
  return sources.flatMap((s): DrillCheck[] => {
    if (!('ownership' in s) || !s.ownership) return [];
    const { notKept, samples } = s.ownership;
    const base = { target: s.target, name: OWNERS_CHECK, durationMs: 0 };
    if (!notKept) return [{ ...base, status: 'PASS', reason: "every restored path keeps the owner and group it has now; new ones get the owner the set records, or their folder's" }];
    const named = samples
      .filter((c) => !c.ownerKept)
      .map((c) => c.path)
      .slice(0, 20);
    const more = notKept > named.length ? ` and ${notKept - named.length} more` : '';
    return [
      {
        ...base,
        status: 'WARN',
        reason: `Lifeboat is not running as root, so ${count(notKept, 'path')} would not keep ${notKept === 1 ? 'its' : 'their'} owner: ${named.join(', ')}${more}. Run the restore as root to keep them; if it goes ahead, its result names them again.`,
      },
    ];
  });
}

/** The nearest folder that exists at or above `p`: where free space is measured. */
async function existingAncestor(p: string): Promise<string> {
  let dir = path.dirname(p);
  while (
    !(await fs.stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

/** Staging needs room beside each target, and the safety backup room in the location, per disk. */
async function spaceCheck(env: Environment, targets: RestoreTarget[], live: boolean, ctx: (t: RestoreTarget) => RestoreContext): Promise<DrillCheck> {
  const started = performance.now();
  // By disk: a local device number, or the store itself when it shares no disk with this machine.
  const needs = new Map<number | string, { dir: string; bytes: number; what: string[]; free?: number }>();
  const put = (disk: number | string, dir: string, bytes: number, what: string, free?: number) => {
    const n = needs.get(disk) ?? { dir, bytes: 0, what: [], free };
    n.bytes += bytes;
    n.what.push(`${what} ${formatBytes(bytes)}`);
    needs.set(disk, n);
  };
  const add = async (p: string, bytes: number, what: string) => {
    const dir = await existingAncestor(p);
    put((await fs.stat(dir)).dev, dir, bytes, what);
  };
  for (const t of targets) {
    const restorer = restorerOf(t.source);
    // A kind applied in place (a database server, a command) stages nothing on this machine.
    if (restorer.method === 'swap') await add(t.target, restorer.stagedBytes(t.artifacts), `staging "${t.source.name}"`);
  }
  if (live) {
    let disk: StoreDisk | undefined;
    for (const t of targets) {
      const c = ctx(t);
      const exists = await restorerOf(t.source)
        .exists(c)
        .catch(() => false);
      if (!exists) continue;
      const estimate = await pluginOf(t.source)
        .inspect(t.source, c.signal)
        .catch(() => ({ bytes: 0 }));
      disk ??= await openStore(env.location).disk();
      put(disk.device ?? `store ${env.location}`, disk.at, estimate.bytes, `safety backup of "${t.source.name}" up to`, disk.device === null ? disk.freeBytes : undefined);
    }
  }
  const short: string[] = [];
  const fine: string[] = [];
  for (const n of needs.values()) {
    let free = n.free;
    if (free === undefined) {
      const st = await fs.statfs(n.dir);
      free = st.bavail * st.bsize;
    }
    (free < n.bytes ? short : fine).push(`${n.dir}: need ${formatBytes(n.bytes)} (${n.what.join(', ')}), ${formatBytes(free)} free`);
  }
  return {
    target: 'disk',
    name: 'enough free space',
    status: short.length ? 'FAIL' : 'PASS',
    reason: short.length ? `disk full at ${short.join('; ')}` : fine.join('; ') || 'nothing is staged or saved on this machine',
    durationMs: performance.now() - started,
  };
}
