import { randomBytes } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { fsyncDir } from '../durable.js';

/** What is wrong with a backup location: `message` starts with the path, `hint` says what to do. */
export interface LocationProblem {
  code: 'LOCATION_UNWRITABLE' | 'DISK_FULL';
  message: string;
  hint: string;
}

export type LocationVerdict =
  | { ok: true; /** The folder itself, or the nearest existing one above it (where it will be created). */ at: string; exists: boolean; freeBytes: number | null }
  | { ok: false; problem: LocationProblem };

/** How long a test file may take to be written, fsynced and removed (a disk spinning up takes a few seconds). */
export const PROBE_MS = 20_000;

/** Folders the kernel makes up: nothing written there reaches a disk, and some never answer a create. */
const VIRTUAL_ROOTS: Record<string, string> = {
  '/proc': 'a view of running processes',
  '/sys': 'a view of devices and drivers',
  '/dev': 'device files and shared memory',
};

/** Linux filesystem types (statfs f_type) of the same kind, wherever they are mounted. */
const VIRTUAL_TYPES: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x1cd1: 'devpts',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x62656570: 'configfs',
  0xde5e81e4: 'efivarfs',
  0xcafe4a11: 'bpf',
  0x6165676c: 'pstore',
};

const VIRTUAL_HINT = 'Choose a folder on a disk for the backups, such as /var/backups/lifeboat or a folder on a mounted drive.';

const problem = (message: string, hint: string, code: LocationProblem['code'] = 'LOCATION_UNWRITABLE'): { ok: false; problem: LocationProblem } => ({ ok: false, problem: { code, message, hint } });

function virtualRoot(abs: string): string | undefined {
  return Object.keys(VIRTUAL_ROOTS).find((root) => abs === root || abs.startsWith(`${root}/`));
}

function insideVirtual(root: string): string {
  return `inside ${root}, which the kernel makes up (${VIRTUAL_ROOTS[root]}), not a disk: nothing written there is kept`;
}

/** Refused by its path alone: a folder under /proc, /sys or /dev. */
export function virtualPlace(dir: string): LocationProblem | null {
  const root = virtualRoot(path.resolve(dir));
  return root ? { code: 'LOCATION_UNWRITABLE', message: `${dir} is ${insideVirtual(root)}`, hint: VIRTUAL_HINT } : null;
}

/** The folder itself when it exists, otherwise the nearest existing folder above it. */
async function nearestExisting(dir: string): Promise<{ at: string; st: Stats } | { ok: false; problem: LocationProblem }> {
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      return { at, st: await fs.stat(at) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return problem(`${at} cannot be read (${code})`, 'Check its permissions, or choose another folder.');
    }
    if (path.dirname(at) === at) return problem(`no folder above ${dir} exists`, 'Give a folder on a mounted disk.');
  }
}

/** Creates, writes, fsyncs and removes a small hidden file in `at`, as a backup will; returns what failed. */
async function writeTestFile(at: string): Promise<LocationProblem | null> {
  const file = path.join(at, `.lifeboat-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  let step = 'created';
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(file, 'wx', 0o600);
    step = 'written';
    await fh.writeFile('lifeboat: can this folder hold backups?\n');
    step = 'flushed to the disk (fsync)';
    await fh.sync();
    await fh.close();
    fh = undefined;
    step = 'removed';
    await fs.unlink(file);
    step = 'recorded as removed (fsync of the folder)';
    await fsyncDir(at);
    return null;
  } catch (err) {
    await fh?.close().catch(() => undefined);
    if (step !== 'created') await fs.rm(file, { force: true }).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    if (code === 'EROFS') return { code: 'LOCATION_UNWRITABLE', message: `${at} is on a read-only filesystem`, hint: 'Choose a folder on a writable disk, or remount that filesystem read-write.' };
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return {
        code: 'DISK_FULL',
        message: `${at} cannot hold backups: a test file could not be ${step} there (${code}: no space, inode or quota left)`,
        hint: 'Free space on that disk (or prune old sets), or choose a folder on another disk.',
      };
    }
    return {
      code: 'LOCATION_UNWRITABLE',
      message: `${at} cannot hold backups: a test file could not be ${step} there (${code})`,
      hint: 'Lifeboat must create, write, fsync and remove files there: choose a folder on a local disk, or fix that filesystem (permissions, mount options).',
    };
  }
}

/**
 * Whether backups can be written at `dir`, asked of the disk: not a place the kernel makes up, a
 * folder (or the nearest existing folder above it, where it would be created), on a writable
 * filesystem, where a test file can be created, written, fsynced and removed within `timeoutMs`.
 * Leaves nothing behind. Used by the editor's check, by `env import` and before every backup, since
 * a location can go bad after it was imported (a disk remounted read-only, a share that hangs).
 */
export async function probeLocation(location: string, timeoutMs = PROBE_MS): Promise<LocationVerdict> {
  const dir = path.resolve(location);
  const virtual = virtualPlace(dir);
  if (virtual) return { ok: false, problem: virtual };
  const found = await nearestExisting(dir);
  if ('ok' in found) return found;
  const { at, st } = found;
  if (!st.isDirectory()) return problem(`${at} is a file, not a folder`, 'Choose a folder for the backups.');
  const real = await fs.realpath(at).catch(() => at);
  const linked = virtualRoot(real);
  if (linked) return problem(`${dir} leads to ${real}, which is ${insideVirtual(linked)}`, VIRTUAL_HINT);
  const stats = await fs.statfs(at).catch(() => null);
  const type = process.platform === 'linux' && stats ? VIRTUAL_TYPES[stats.type] : undefined;
  if (type) return problem(`${at} is on a ${type} filesystem, which the kernel makes up, not a disk: nothing written there is kept`, VIRTUAL_HINT);
  try {
    await fs.access(at, constants.W_OK | constants.X_OK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EROFS') return problem(`${at} is on a read-only filesystem`, 'Choose a folder on a writable disk, or remount that filesystem read-write.');
    return problem(`${at} is not writable by the user running Lifeboat`, 'Choose another folder, or give that user write permission on it.');
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<LocationProblem>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          code: 'LOCATION_UNWRITABLE',
          message: `${at} did not answer within ${Math.round(timeoutMs / 1000)} s when a test file was written there`,
          hint: 'The disk or network share behind it may be asleep or hung: check that it answers (ls it), or choose another folder.',
        }),
      timeoutMs,
    );
  });
  const failed = await Promise.race([writeTestFile(at), late]).finally(() => clearTimeout(timer));
  if (failed) return { ok: false, problem: failed };
  return { ok: true, at, exists: at === dir, freeBytes: stats ? stats.bavail * stats.bsize : null };
}
