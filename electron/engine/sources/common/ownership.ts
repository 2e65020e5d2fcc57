import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import type { FileOwner } from '../../../../shared/manifest.js';
import type { Ownership, OwnershipChange } from '../../../../shared/restore.js';
import { formatOwnership } from '../../../../shared/format.js';

/** Owner, group and permission bits (`mode & 0o7777`) of one path. */
export interface Owner {
  uid: number;
  gid: number;
  mode: number;
}

export type Kind = 'file' | 'dir' | 'symlink' | 'other';

/** The recorded owner of a path: a mode always, ids and names when the set has them (older sets do not). */
export type Recorded = Partial<Omit<FileOwner, 'mode'>> & { mode: number };

export const ownerOf = (st: Stats): Owner => ({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 });

/**
 * This machine's account names, read from /etc/passwd and /etc/group (accounts served only by
 * another name service are not seen: they are then recorded and shown by id alone).
 */
export class Accounts {
  private readonly uids: Map<string, number>;
  private readonly gids: Map<string, number>;

  private constructor(
    private readonly users: Map<number, string>,
    private readonly groups: Map<number, string>,
  ) {
    this.uids = new Map([...users].map(([id, name]) => [name, id]));
    this.gids = new Map([...groups].map(([id, name]) => [name, id]));
  }

  static async load(): Promise<Accounts> {
    const read = async (file: string) => {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      const byId = new Map<number, string>();
      for (const line of text.split('\n')) {
        const [name, , id] = line.split(':');
        const n = Number(id);
        if (name && id && Number.isInteger(n) && !byId.has(n)) byId.set(n, name);
      }
      return byId;
    };
    return new Accounts(await read('/etc/passwd'), await read('/etc/group'));
  }

  /** The record of a path's owner for a set: ids, and names where they resolve. */
  record(st: Stats): FileOwner {
    const user = this.users.get(st.uid);
    const group = this.groups.get(st.gid);
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ...(user ? { user } : {}), ...(group ? { group } : {}) };
  }

  /** What the contract shows: ids and the names they have here. */
  show(o: Owner): Ownership {
    return { uid: o.uid, gid: o.gid, user: this.users.get(o.uid) ?? null, group: this.groups.get(o.gid) ?? null, mode: o.mode };
  }

  /**
   * The ids a recorded owner has on this machine: a recorded name that exists here wins over the
   * recorded number (as tar does), so a set restored on a rebuilt machine goes to the same account.
   */
  resolve(r: Recorded): { uid: number; gid: number } | undefined {
    if (r.uid === undefined || r.gid === undefined) return undefined;
    return { uid: this.uids.get(r.user ?? '') ?? r.uid, gid: this.gids.get(r.group ?? '') ?? r.gid };
  }
}

/** Who this process is, and so which owners it may give a path. */
export interface Identity {
  uid: number;
  gid: number;
  groups: number[];
}

export function identity(): Identity {
  return { uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1, groups: process.getgroups?.() ?? [] };
}

/** Root may give a path any owner; anyone else only themselves, with a group they are in. */
export function mayOwn(id: Identity, uid: number, gid: number): boolean {
  return id.uid === 0 || (uid === id.uid && (gid === id.gid || id.groups.includes(gid)));
}

/**
 * The special bits a restore never sets on a path the live data did not have them on: set-uid
 * and set-gid on files (a forged set restored by root could otherwise plant a set-uid-root
 * program), set-uid on folders (it means nothing there), sticky on files. A folder keeps set-gid
 * (new files take its group) and sticky (only owners may delete): neither gives anyone rights.
 */
export function withoutSpecialBits(mode: number, type: Kind): number {
  return type === 'dir' ? mode & ~0o4000 : mode & ~0o7000;
}

/** What a restore aims to give one path, the owners it tries in order, and what it is now and in the set. */
export interface Aim {
  rel: string;
  type: Kind;
  want: Owner;
  tries: { uid: number; gid: number }[];
  /** Special bits of the recorded mode a new path does not get. */
  masked: number;
  live: Owner | null;
  inSet: Owner | null;
}

export interface AimInput {
  rel: string;
  type: Kind;
  /** The path in the live data, if it is there (a restore over the live data only). */
  live?: { type: Kind; owner: Owner };
  recorded: Recorded;
  /** The owner of the folder the path goes into, as this restore leaves it. */
  folder: { uid: number; gid: number };
  /** False for a restore test: recorded modes, and owners left as the process makes them. */
  inPlace: boolean;
}

/**
 * Decides one path's owner and mode. Over the live data the live path wins (a restore never
 * hands a file to someone new); a new path gets the recorded owner, else its folder's, and its
 * recorded mode without special bits. Each falls back to keeping the group only.
 */
export function aimAt(input: AimInput, accounts: Accounts, id: Identity): Aim {
  const { rel, type, live, recorded, folder } = input;
  const inSetIds = accounts.resolve(recorded);
  const inSet = inSetIds ? { ...inSetIds, mode: recorded.mode } : null;
  const safe = withoutSpecialBits(recorded.mode, type);
  const masked = recorded.mode & ~safe;
  if (!input.inPlace) return { rel, type, want: { uid: id.uid, gid: id.gid, mode: safe }, tries: [], masked, live: null, inSet };
  if (live) {
    const sameKind = live.type === type;
    const want = { uid: live.owner.uid, gid: live.owner.gid, mode: sameKind ? live.owner.mode : safe };
    return { rel, type, want, tries: unique([want, { uid: id.uid, gid: want.gid }]), masked: sameKind ? 0 : masked, live: live.owner, inSet };
  }
  const base = inSetIds ?? folder;
  const tries = unique([base, folder, { uid: id.uid, gid: base.gid }, { uid: id.uid, gid: folder.gid }]);
  return { rel, type, want: { ...base, mode: safe }, tries, masked, live: null, inSet };
}

function unique(list: { uid: number; gid: number }[]): { uid: number; gid: number }[] {
  return list.filter((o, i) => list.findIndex((p) => p.uid === o.uid && p.gid === o.gid) === i).map(({ uid, gid }) => ({ uid, gid }));
}

/** What `give` will leave: the first owner the process may set, else what it creates files as. */
export function predict(aim: Aim, id: Identity): Owner {
  const may = aim.tries.find((t) => mayOwn(id, t.uid, t.gid)) ?? { uid: id.uid, gid: id.gid };
  return { ...may, mode: aim.want.mode };
}

/**
 * Gives `abs` the first of the aim's owners the process may set (chown first: it clears set-uid
 * bits), then its mode. Returns what the path has now, read back.
 */
export async function give(abs: string, aim: Aim): Promise<Owner> {
  const st = await fs.lstat(abs);
  for (const t of aim.tries) {
    if (st.uid === t.uid && st.gid === t.gid) break;
    try {
      await fs.lchown(abs, t.uid, t.gid);
      break;
    } catch (err) {
      // EPERM: not root, or not in the group; EINVAL: an id this system (or container) cannot map.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'EINVAL') throw err;
    }
  }
  if (aim.type !== 'symlink') await fs.chmod(abs, aim.want.mode);
  return ownerOf(await fs.lstat(abs));
}

/** What a restore gave each path it wrote, for the verification after the swap. */
export interface Placed {
  rel: string;
  type: Kind;
  want: Owner;
  got: Owner;
  /** Whether the live data lacked the path (its owner then comes from the set or its folder). */
  isNew: boolean;
  masked: number;
  /** The recorded mode, with any special bits. */
  recorded: number;
}

/** A path's entry in the plan, once `give` has read back what it got. */
export const placedOf = (aim: Aim, got: Owner): Placed => ({ rel: aim.rel, type: aim.type, want: aim.want, got, isNew: !aim.live, masked: aim.masked, recorded: aim.want.mode | aim.masked });

/** A source's owners plan: `inPlace` false for a restore test, which does not change owners. */
export interface OwnerPlan {
  inPlace: boolean;
  uid: number;
  placed: Placed[];
}

/** Whether an owner's ids (and, for anything but a link, mode) differ. */
export function differs(a: Owner, b: Owner, type: Kind, owners = true): boolean {
  return (owners && (a.uid !== b.uid || a.gid !== b.gid)) || (type !== 'symlink' && a.mode !== b.mode);
}

/** The preview's list for one source: changes sorted by path, the first `limit` shown. */
export function changesOf(aims: { abs: string; aim: Aim }[], accounts: Accounts, id: Identity, limit = 50): { count: number; notKept: number; samples: OwnershipChange[] } {
  const list: OwnershipChange[] = [];
  let notKept = 0;
  for (const { abs, aim } of aims) {
    const after = predict(aim, id);
    const why: string[] = [];
    const inPlace = aim.tries.length > 0; // a restore test tries no owner
    const ownerKept = !inPlace || (after.uid === aim.want.uid && after.gid === aim.want.gid);
    if (!ownerKept) {
      notKept++;
      why.push(`Lifeboat runs as uid ${id.uid}, not root, so it cannot give it ${aim.live ? 'back its owner' : 'the owner the set records'}`);
    }
    if (aim.live && aim.inSet && differs(aim.live, aim.inSet, aim.type)) why.push('the live owner and mode are kept, not the ones the set records');
    if (aim.masked) why.push(`the ${bitNames(aim.masked)} ${aim.masked & (aim.masked - 1) ? 'bits are' : 'bit is'} not restored: the live data has no such ${aim.type === 'dir' ? 'folder' : 'file'}`);
    if (!why.length) continue;
    const show = (o: Owner | null) => (o ? accounts.show(o) : null);
    list.push({ path: abs, now: show(aim.live), inSet: show(aim.inSet), after: accounts.show(after), ownerKept, why: why.join('; ') });
  }
  list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { count: list.length, notKept, samples: list.slice(0, limit) };
}

/** `set-uid and set-gid`: the special bits named. */
export function bitNames(bits: number): string {
  const names = [bits & 0o4000 && 'set-uid', bits & 0o2000 && 'set-gid', bits & 0o1000 && 'sticky'].filter(Boolean);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : String(names[0] ?? '');
}

/** `app:app (1001:1001) 0664` for an owner, with names where this machine has them. */
export const describe = (o: Owner, accounts: Accounts) => formatOwnership(accounts.show(o));

/** The owner of the nearest folder that exists at or above `p` (its parent first): what a new path there would belong to. */
export async function folderOwner(p: string): Promise<Owner> {
  let dir = path.dirname(p);
  for (;;) {
    const st = await fs.stat(dir).catch(() => undefined);
    if (st?.isDirectory()) return ownerOf(st);
    const up = path.dirname(dir);
    if (up === dir) return { uid: 0, gid: 0, mode: 0o755 };
    dir = up;
  }
}
