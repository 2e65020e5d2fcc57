import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { FilesSource } from '../../../../shared/environment.js';
import type { DrillCheck } from '../../../../shared/drill.js';
import { count, formatBytes } from '../../../../shared/format.js';
import { cancelled, fsError, LifeboatError, throwIfAborted } from '../../errors.js';
import { timedCheck } from '../../checks.js';
import { extract, type Extracted } from './archive-extract.js';
import { firstFew } from './file-index.js';
import { keptAim, treeAims } from './files-owners.js';
import { Accounts, give, identity, ownerOf, placedOf, type Aim, type Owner, type OwnerPlan, type Placed } from '../common/ownership.js';
import { folderAt, listingOf, listTree, loadSet, parentOf, proveListing, rolesOf, type SetData, type TreeEntry } from './tree-compare.js';
import type { RestoreContext, Staged } from '../common/types.js';

type Ctx = RestoreContext<FilesSource>;

/** A staged tree that differs from the set: the restore must not go on. */
class Mismatch extends Error {}

const KEEP_HINT = 'Your live data was not changed and the staging folder was removed.';

const depth = (p: string) => p.split('/').length;

/** The staging check that gives every path its owner, mode and time. */
export const OWNERS_APPLIED = 'owners, modes and times applied';

/**
 * Carries the live entries the globs do not take into the staged tree at the same paths: files
 * hard-linked (the same inode keeps its owner and mode; copied when linking fails, e.g. EXDEV or
 * a file of another user), folders and links recreated. Only into folders known to be real
 * folders, so nothing is written through a link. Returns what it made anew (their owner, mode
 * and time are set last) and what was kept.
 */
async function keepLive(ctx: Ctx, set: SetData, staged: string, live: TreeEntry[]): Promise<{ made: TreeEntry[]; summary: string }> {
  if (!live.length) return { made: [], summary: `nothing at ${ctx.target} to keep` };
  const roles = rolesOf(live, set.index, ctx.source);
  const real = new Set(['', ...set.entries.filter((e) => e.type === 'dir').map((e) => e.path)]);
  const made: TreeEntry[] = [];
  const n = { linked: 0, copied: 0, links: 0, dirs: 0 };
  for (const e of live) {
    if (roles.get(e.path) !== 'kept') continue;
    throwIfAborted(ctx.signal);
    if (!real.has(parentOf(e.path))) throw new Error(`${e.path} cannot be kept: ${parentOf(e.path)} is not a folder in the restored data`);
    const from = path.join(ctx.target, e.path);
    const to = path.join(staged, e.path);
    if (e.type === 'dir') {
      await fs.mkdir(to, { mode: 0o700 });
      real.add(e.path);
      n.dirs++;
    } else if (e.type === 'symlink') {
      await fs.symlink(e.target ?? '', to);
      n.links++;
    } else {
      try {
        await fs.link(from, to);
        n.linked++;
        continue;
      } catch (err) {
        if (e.type !== 'file')
          throw new Error(`${e.path} is a special file that could not be hard-linked (${(err as NodeJS.ErrnoException).code ?? 'error'}); move it out of the folder, then restore again`, {
            cause: err,
          });
        await fs.copyFile(from, to, constants.COPYFILE_EXCL);
        n.copied++;
      }
    }
    made.push(e);
  }
  const files = `${count(n.linked + n.copied, 'file')} (${n.linked} hard-linked, ${n.copied} copied)`;
  return { made, summary: `${files}, ${count(n.dirs, 'folder')} and ${count(n.links, 'link')} the globs do not take kept from ${ctx.target}` };
}

/**
 * Gives each staged path its owner (over the live data only), mode and time, then reads them
 * back: files and links first, then folders deepest first (so their times stay), the folder
 * itself last. Returns the plan the verification after the swap checks the live data against.
 */
async function applyOwnersAndTimes(ctx: Ctx, set: SetData, made: TreeEntry[], staged: string, live: TreeEntry[], liveRoot: Owner | undefined): Promise<{ summary: string; plan: OwnerPlan }> {
  const inPlace = !ctx.destination;
  const [accounts, id] = [await Accounts.load(), identity()];
  const aims = await treeAims(set, ctx.target, new Map(live.map((e) => [e.path, e])), liveRoot, inPlace, accounts, id);
  const times = new Map<string, number>([...set.entries.map((e) => [e.path, e.mtime] as const), ...made.map((e) => [e.path, e.mtimeMs] as const)]);
  const todo = [...aims.entries, ...made.map((e) => keptAim(e, accounts, id))];
  const placed: Placed[] = [];
  const wrong: string[] = [];
  const apply = async (aim: Aim, mtimeMs: number | undefined) => {
    const abs = path.join(staged, aim.rel);
    const got = await give(abs, aim);
    if (mtimeMs !== undefined) {
      const time = mtimeMs / 1000; // seconds as a float keep sub-millisecond times (a Date truncates them)
      await (aim.type === 'symlink' ? fs.lutimes(abs, time, time) : fs.utimes(abs, time, time));
      const st = await fs.lstat(abs);
      if (Math.abs(st.mtimeMs - mtimeMs) >= 1) wrong.push(`${aim.rel} (modified ${st.mtime.toISOString()})`);
    }
    // Without the owner or group the kernel may drop set-gid: the verification names that path, staging goes on.
    const ownerSet = got.uid === aim.want.uid && got.gid === aim.want.gid;
    if (aim.type !== 'symlink' && got.mode !== aim.want.mode && (ownerSet || !inPlace)) wrong.push(`${aim.rel || '.'} (mode ${got.mode.toString(8)})`);
    placed.push(placedOf(aim, got));
  };
  for (const aim of todo) if (aim.type !== 'dir') await apply(aim, times.get(aim.rel));
  const dirs = todo.filter((a) => a.type === 'dir').sort((a, b) => depth(b.rel) - depth(a.rel));
  for (const aim of dirs) await apply(aim, times.get(aim.rel));
  await apply(aims.root, undefined);
  if (wrong.length) throw new Mismatch(`${wrong.length} entries did not take their mode and time: ${firstFew(wrong)}`);
  const owners = inPlace ? 'owner, group (where Lifeboat may set them), ' : '';
  return {
    plan: { inPlace, uid: id.uid, placed },
    summary: `${set.entries.length} entries of the set, ${made.length} kept ones made anew and the folder itself have their ${owners}mode and modification time`,
  };
}

/** Runs one step as a named check and rethrows its own error when it fails, so the cause stays typed. */
async function must(checks: DrillCheck[], target: string, name: string, run: () => Promise<string>): Promise<void> {
  let thrown: unknown;
  const passed = await timedCheck(checks, target, name, () => run().catch((err: unknown) => Promise.reject((thrown = err))));
  if (!passed) throw thrown;
}

/** The operator-facing error for a failed stage: a full disk with the space needed, a mismatch naming paths, or the cause. */
function stageError(err: unknown, ctx: Ctx & { staged: string }, need: number): LifeboatError {
  if (err instanceof LifeboatError) return err;
  const name = ctx.source.name;
  if (err instanceof Mismatch)
    return new LifeboatError('STAGE_FAILED', `The staged copy of source "${name}" does not match the set: ${err.message}.`, `${KEEP_HINT} Run a drill on this set; restore another set if it fails.`);
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  // node-tar puts the entry it was writing on its errors; Node's own errors carry `path`.
  const at = (cause as { path?: string }).path ?? (cause as { entry?: { absolute?: string } }).entry?.absolute ?? ctx.staged;
  const known = fsError(cause, at, true);
  if (known?.code === 'DISK_FULL') {
    return new LifeboatError(
      'DISK_FULL',
      `Disk full at ${at} while staging source "${name}".`,
      `Staging needs ${formatBytes(need)} (${need} bytes) free on the disk of ${path.dirname(ctx.staged)}; free that much and restore again. ${KEEP_HINT}`,
    );
  }
  const why = known?.message ?? (err instanceof Error ? err.message : String(err));
  return new LifeboatError('STAGE_FAILED', `Staging source "${name}" failed: ${why}`, `${known?.hint ?? 'Check the disk beside the target.'} ${KEEP_HINT}`);
}

/**
 * Extracts the set into `staged` (made here, 0700), proves it equals the index, carries over the
 * live entries the globs do not take, then sets modes and times. Any failure or cancel removes
 * `staged` entirely; the live target is only read.
 */
export async function stageFiles(ctx: Ctx & { staged: string }): Promise<Staged> {
  const { staged, signal, progress, source } = ctx;
  const set = await loadSet(ctx);
  const liveRoot = (await folderAt(ctx.target, source.name)) ? ownerOf(await fs.lstat(ctx.target)) : undefined;
  await fs.mkdir(staged, { mode: 0o700 }).catch((err: unknown) => {
    throw (
      fsError(err, staged, true) ??
      new LifeboatError(
        'STAGE_FAILED',
        `Cannot create the staging folder ${staged}: ${err instanceof Error ? err.message : String(err)}.`,
        'Remove what is in the way, then restore again. Your live data was not changed.',
      )
    );
  });
  const file = set.archive.file;
  const checks: DrillCheck[] = [];
  try {
    await fs.chmod(staged, 0o700);
    progress.setPhase('stage', source.name);
    let got: Extracted | undefined;
    await must(checks, file, 'extracts safely', async () => {
      const refused = (why: string) =>
        new LifeboatError(
          'UNSAFE_ARCHIVE',
          `Refused to restore source "${source.name}": ${why}.`,
          'Nothing was written outside the staging folder, and it was removed. The set may be damaged or forged: restore another set, and run a drill on this one.',
        );
      got = await extract(ctx.reader, set.archive, staged, set.details, { links: 'create', signal, progress }).catch((err: unknown) => {
        throw err instanceof LifeboatError && err.code === 'UNSAFE_ARCHIVE' ? refused(err.message) : err;
      });
      if (got.refused.length) throw refused(`${file} holds ${count(got.refused.length, 'unsafe entry', 'unsafe entries')}: ${firstFew(got.refused)}`);
      return `${got.files.size + got.dirs.size + got.links.size} entries extracted into the staging folder, none refused; links made after every file and folder`;
    });
    const listing = listingOf(await listTree(staged, signal), got?.files ?? new Map());
    if (!(await proveListing(checks, file, set.entries, listing, 'the staging folder'))) {
      throw new Mismatch(
        checks
          .filter((c) => c.status === 'FAIL')
          .map((c) => `${c.name}: ${c.reason}`)
          .join('; '),
      );
    }
    progress.setPhase('keep', source.name);
    const live = liveRoot ? await listTree(ctx.target, signal) : [];
    let made: TreeEntry[] = [];
    await must(checks, file, 'live entries the globs do not take kept', async () => {
      const kept = await keepLive(ctx, set, staged, live);
      made = kept.made;
      return kept.summary;
    });
    let owners: OwnerPlan | undefined;
    await must(checks, file, OWNERS_APPLIED, async () => {
      const applied = await applyOwnersAndTimes(ctx, set, made, staged, live, liveRoot);
      owners = applied.plan;
      return applied.summary;
    });
    throwIfAborted(signal);
    return { checks, owners: owners! }; // must() threw unless the step set it
  } catch (err) {
    const left = await fs.rm(staged, { recursive: true, force: true, maxRetries: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const failure = signal.aborted ? cancelled() : stageError(err, ctx, set.details.totalBytes);
    if (!left) throw failure;
    const why = left instanceof Error ? left.message : String(left);
    throw new LifeboatError(failure.code, failure.message, `Your live data was not changed, but the staging folder ${staged} could not be removed (${why}): remove it by hand.`);
  }
}
