import { promises as fs } from 'node:fs';
import type { DrillCheck } from '../../../../shared/drill.js';
import { count } from '../../../../shared/format.js';
import { firstFew } from '../files/file-index.js';
import { bitNames, describe, differs, ownerOf, type Accounts, type OwnerPlan, type Placed } from './ownership.js';

/** The names of the verification's owner checks. */
export const OWNERS_KEPT = 'owners and modes kept';
export const MODES_RECORDED = 'modes as recorded';
export const BITS_DROPPED = 'set-uid and set-gid bits not restored';

/** How many paths a WARN names before "and N more". */
const NAMED = 20;

/**
 * After the swap, reads back every path the restore wrote. FAIL when one no longer has the
 * owner, group and mode staging gave it (something changed it since); WARN naming each path
 * whose owner could not be the live one (or, for a new path, the recorded one) because Lifeboat
 * is not root, and each whose special bits were dropped. A restore test compares modes only.
 */
export async function proveOwners(checks: DrillCheck[], target: string, plan: OwnerPlan, paths: { abs: string; placed: Placed }[], accounts: Accounts): Promise<void> {
  const started = performance.now();
  const push = (name: string, status: DrillCheck['status'], reason: string) => checks.push({ target, name, status, reason, durationMs: performance.now() - started });
  const show = (o: Placed['got']) => describe(o, accounts);
  const moved: string[] = [];
  for (const { abs, placed } of paths) {
    const st = await fs.lstat(abs).catch(() => undefined);
    if (!st) moved.push(`${abs} (missing)`);
    else if (differs(ownerOf(st), placed.got, placed.type, plan.inPlace)) moved.push(`${abs} (${show(ownerOf(st))}, restored as ${show(placed.got)})`);
  }
  const name = plan.inPlace ? OWNERS_KEPT : MODES_RECORDED;
  const notSet = plan.inPlace ? paths.filter(({ placed: p }) => differs(p.got, p.want, p.type)) : [];
  if (moved.length) {
    push(name, 'FAIL', `${count(moved.length, 'path')} changed after the restore gave ${moved.length === 1 ? 'it its' : 'them their'} owner and mode: ${firstFew(moved)}`);
  } else if (notSet.length) {
    const list = notSet.map(({ abs, placed: p }) => `${abs} (${show(p.got)}, ${p.isNew ? 'the set records' : 'was'} ${show(p.want)})`);
    push(
      name,
      'WARN',
      `Lifeboat runs as uid ${plan.uid}, not root, so ${count(notSet.length, 'path')} could not be given back ${notSet.length === 1 ? 'its' : 'their'} owner (a new path: the one the set records); it set the group and mode where it was allowed to: ${firstFew(list, NAMED)}. Run the restore as root, or give them back with chown.`,
    );
  } else if (plan.inPlace) {
    const fresh = paths.filter((p) => p.placed.isNew).length;
    push(
      name,
      'PASS',
      `${count(paths.length - fresh, 'path')} have the owner, group and mode the live data had${fresh ? `; ${count(fresh, 'new path')} the owner the set records (or their folder's) and the recorded mode` : ''}`,
    );
  } else {
    push(name, 'PASS', `${count(paths.length, 'path')} have their recorded modes; owners left to uid ${plan.uid}: a restore test does not change owners`);
  }
  const masked = paths.filter((p) => p.placed.masked);
  if (masked.length) {
    const list = masked.map(({ abs, placed: p }) => `${abs} (${bitNames(p.masked)}; recorded ${p.recorded.toString(8).padStart(4, '0')}, restored ${p.got.mode.toString(8).padStart(4, '0')})`);
    push(
      BITS_DROPPED,
      'WARN',
      `${count(masked.length, 'path')} came back without the special bits the set records, because the live data has no such path with them (a forged set could plant a set-uid program): ${firstFew(list, NAMED)}. Set them by hand (chmod) if they are wanted.`,
    );
  }
}
