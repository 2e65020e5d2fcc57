import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { FilesSource } from '../../../../shared/environment.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import type { FileChange as FileChangeSchema, InUse, SourcePreview } from '../../../../shared/restore.js';
import { cancelled, fsError } from '../../errors.js';
import { timedCheck } from '../../checks.js';
import { hashFile } from '../../pipeline.js';
import { openFilesUnder } from '../../in-use.js';
import type { IndexEntry } from './file-index.js';
import { folderAt, listingOf, listTree, loadSet, proveListing, rolesOf, type Role, type SetData, type TreeEntry } from './tree-compare.js';
import { keptAim, treeAims } from './files-owners.js';
import { Accounts, changesOf, identity, ownerOf } from '../common/ownership.js';
import { proveOwners } from '../common/owner-checks.js';
import { stageFiles } from './files-stage.js';
import { destinationFolder } from '../common/destination.js';
import type { RestoreContext, SwapRestore } from '../common/types.js';

type Ctx = RestoreContext<FilesSource>;
type FileChange = z.infer<typeof FileChangeSchema>;

const SAMPLES = 50;

async function hashLive(abs: string, ctx: Ctx): Promise<{ size: number; sha256: string }> {
  try {
    const got = await hashFile(abs, ctx.signal);
    ctx.progress.addBytes(got.size);
    return got;
  } catch (err) {
    if (ctx.signal.aborted) throw cancelled();
    throw fsError(err, abs, false) ?? err;
  }
}

/** Whether the live entry differs from the set's: kind, size, then SHA-256 (same size only), link target. */
async function differs(e: IndexEntry, now: TreeEntry, ctx: Ctx): Promise<boolean> {
  if (now.type !== e.type) return true;
  if (e.type === 'symlink') return now.target !== e.target;
  if (e.type !== 'file') return false;
  return now.size !== e.size || (await hashLive(path.join(ctx.target, e.path), ctx)).sha256 !== e.sha256;
}

/**
 * Compares the live folder with the set among the entries the globs take: added (in the set
 * only), removed (live only), changed, unchanged; live entries the globs do not take are `kept`.
 * Counts cover files, folders and links; bytes are file bytes (for `changed`, the set's).
 */
async function preview(ctx: Ctx): Promise<SourcePreview> {
  const set = await loadSet(ctx);
  ctx.progress.setPhase('compare', ctx.source.name);
  const exists = await folderAt(ctx.target, ctx.source.name);
  const live = exists ? await listTree(ctx.target, ctx.signal) : [];
  const roles = rolesOf(live, set.index, ctx.source);
  const byPath = new Map(live.map((e) => [e.path, e]));
  const found: Record<'added' | 'removed' | 'changed', FileChange[]> = { added: [], removed: [], changed: [] };
  let unchanged = 0;
  for (const e of set.entries) {
    const now = byPath.get(e.path);
    if (!now) found.added.push({ path: e.path, now: null, inSet: e.size });
    else if (await differs(e, now, ctx)) found.changed.push({ path: e.path, now: now.size, inSet: e.size });
    else unchanged++;
  }
  for (const e of live) if (roles.get(e.path) === 'dropped') found.removed.push({ path: e.path, now: e.size, inSet: null });
  const kept = live.filter((e) => roles.get(e.path) === 'kept').length;
  const ownership = await ownershipPreview(ctx, set, live, roles, exists);
  const total = (list: FileChange[], key: 'now' | 'inSet') => ({ count: list.length, bytes: list.reduce((n, c) => n + (c[key] ?? 0), 0) });
  const first = (list: FileChange[]) => [...list].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).slice(0, SAMPLES);
  return {
    type: 'files',
    source: ctx.source.name,
    target: ctx.target,
    targetExists: exists,
    added: total(found.added, 'inSet'),
    removed: total(found.removed, 'now'),
    changed: total(found.changed, 'inSet'),
    unchanged,
    kept,
    samples: { added: first(found.added), removed: first(found.removed), changed: first(found.changed) },
    ownership,
  };
}

/**
 * The owner and mode changes a restore would make: the set's entries and the folder itself as
 * staging will aim them, and the kept folders and links it recreates (kept files are hard-linked,
 * so they keep theirs).
 */
async function ownershipPreview(ctx: Ctx, set: SetData, live: TreeEntry[], roles: Map<string, Role>, exists: boolean) {
  const [accounts, id] = [await Accounts.load(), identity()];
  const liveRoot = exists ? ownerOf(await fs.lstat(ctx.target)) : undefined;
  const aims = await treeAims(set, ctx.target, new Map(live.map((e) => [e.path, e])), liveRoot, !ctx.destination, accounts, id);
  const made = live.filter((e) => roles.get(e.path) === 'kept' && e.type !== 'file').map((e) => keptAim(e, accounts, id));
  return changesOf(
    [aims.root, ...aims.entries, ...made].map((aim) => ({ abs: path.join(ctx.target, aim.rel), aim })),
    accounts,
    id,
  );
}

/** Processes with a file (or their working folder) under the target, read from /proc. */
async function inUse(_source: FilesSource, target: string): Promise<InUse> {
  if (
    !(await fs.lstat(target).then(
      () => true,
      () => false,
    ))
  )
    return { status: 'free', how: 'there is no folder at the target yet' };
  const real = await fs.realpath(target).catch(() => target); // /proc shows resolved paths
  const open = await openFilesUnder([real], true);
  if (!open.supported)
    return { status: 'unknown', reason: 'this platform cannot list which programs have files open (Lifeboat reads /proc on Linux); close the application that uses the folder before restoring' };
  if (open.holders.length) return { status: 'busy', holders: open.holders };
  if (open.hidden) return { status: 'unknown', reason: `no process of yours has a file open under ${real}, but ${open.hidden} processes of other users could not be inspected` };
  return { status: 'free', how: `no process has a file or its working folder under ${real} (checked every process's open files in /proc)` };
}

/**
 * Compares the folder now at the target with the set among the entries the globs take, then
 * every path's owner and mode with what staging gave it; FAIL checks name the first paths.
 */
async function verify(ctx: Ctx): Promise<DrillCheck[]> {
  const checks: DrillCheck[] = [];
  let set: SetData | undefined;
  await timedCheck(checks, ctx.target, 'index parses', async () => {
    set = await loadSet(ctx);
    return `${set.entries.length} entries in ${set.details.indexFile}`;
  });
  if (!set) return checks;
  const data = set;
  ctx.progress.setPhase('verify', ctx.source.name);
  let compared: TreeEntry[] | undefined;
  const hashes = new Map<string, { sha256: string }>();
  await timedCheck(checks, ctx.target, 'target read', async () => {
    if (!(await folderAt(ctx.target, ctx.source.name))) throw new Error(`there is no folder at ${ctx.target}`);
    const live = await listTree(ctx.target, ctx.signal);
    const roles = rolesOf(live, data.index, ctx.source);
    compared = live.filter((e) => roles.get(e.path) !== 'kept');
    for (const e of compared) if (e.type === 'file' && data.index.get(e.path)?.type === 'file') hashes.set(e.path, await hashLive(path.join(ctx.target, e.path), ctx));
    return `${compared.length} entries the globs take, ${hashes.size} files hashed; ${live.length - compared.length} others left as they were`;
  });
  if (compared) await proveListing(checks, ctx.target, data.entries, listingOf(compared, hashes), ctx.target);
  const plan = ctx.owners;
  if (plan)
    await proveOwners(
      checks,
      ctx.target,
      plan,
      plan.placed.map((placed) => ({ abs: path.join(ctx.target, placed.rel), placed })),
      await Accounts.load(),
    );
  return checks;
}

/** The restore half of the `files` source: preview, in-use check, stage beside the target, verify. */
export const filesRestore: SwapRestore<FilesSource> = {
  method: 'swap',
  target: (source, destination) => (destination ? destinationFolder(source, destination) : source.path),
  exists: (ctx) =>
    fs.lstat(ctx.target).then(
      () => true,
      () => false,
    ),
  preview,
  inUse,
  stagedBytes: (artifacts) => artifacts.reduce((n, a) => n + (a.details.type === 'archive' ? a.details.totalBytes : 0), 0),
  companions: () => [],
  stage: stageFiles,
  verify,
};
