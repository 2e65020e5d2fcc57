import type { IndexHeader } from './file-index.js';
import { aimAt, folderOwner, type Accounts, type Aim, type Identity, type Owner, type Recorded } from '../common/ownership.js';
import { parentOf, type SetData, type TreeEntry } from './tree-compare.js';

/** The folder's mode when an older set does not record it: what staging has always made it. */
const UNRECORDED_FOLDER_MODE = 0o700;

const recordedRoot = (h: IndexHeader): Recorded => ({ mode: h.mode ?? UNRECORDED_FOLDER_MODE, uid: h.uid, gid: h.gid, user: h.user, group: h.group });

/** What a restore of a folder aims to give the folder itself and each entry of the set, in index order. */
export interface TreeAims {
  root: Aim;
  entries: Aim[];
}

/**
 * Decides the owner and mode of the folder (`rel` '') and of every entry the set holds. `live`
 * is the live tree by path and `liveRoot` the live folder (both empty for a restore test or when
 * there is no folder yet). A new entry's folder is its parent as this restore leaves it; a new
 * folder itself goes into the folder above the target, whose owner it takes when the set records none.
 */
export async function treeAims(set: SetData, target: string, live: Map<string, TreeEntry>, liveRoot: Owner | undefined, inPlace: boolean, accounts: Accounts, id: Identity): Promise<TreeAims> {
  const above = inPlace && !liveRoot ? await folderOwner(target) : { uid: id.uid, gid: id.gid };
  const root = aimAt({ rel: '', type: 'dir', ...(liveRoot ? { live: { type: 'dir', owner: liveRoot } } : {}), recorded: recordedRoot(set.header), folder: above, inPlace }, accounts, id);
  const folders = new Map<string, Owner>([['', root.want]]);
  const entries = set.entries.map((e) => {
    const now = live.get(e.path);
    // The index lists a folder before what it holds, so the parent's aim is already known.
    const folder = folders.get(parentOf(e.path)) ?? root.want;
    const aim = aimAt({ rel: e.path, type: e.type, ...(now ? { live: { type: now.type, owner: now } } : {}), recorded: e, folder, inPlace }, accounts, id);
    if (e.type === 'dir') folders.set(e.path, aim.want);
    return aim;
  });
  return { root, entries };
}

/** A live entry the globs do not take, recreated in the staged tree: it keeps exactly its owner and mode. */
export function keptAim(e: TreeEntry, accounts: Accounts, id: Identity): Aim {
  return aimAt({ rel: e.path, type: e.type, live: { type: e.type, owner: e }, recorded: e, folder: e, inPlace: true }, accounts, id);
}
