import Database from 'better-sqlite3';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fsError, LifeboatError } from '../errors.js';
import { writeFileAtomic } from '../durable.js';

export interface LockHolder {
  pid: number;
  host: string;
  operation: string;
  door: string;
  startedAt: string;
}

export interface HeldLock {
  /** A holder whose run was killed and whose lock this one cleared, if any. */
  cleared: LockHolder | null;
  release(): Promise<void>;
}

/**
 * One lock per environment, in its backup location, so every door and every process sees it.
 * The lock itself is an exclusive SQLite transaction on `.lifeboat-<app>_<env>.lock`: the kernel
 * releases it when its process dies, even under `kill -9`, so a killed run never blocks the next.
 * Beside it, `.lifeboat-<app>_<env>.holder` names the holder for the refusal message; a holder file
 * found by a run that got the lock was left by a killed run, and is reported as cleared.
 */
export async function acquireLock(location: string, envKey: string, holder: Omit<LockHolder, 'pid' | 'host' | 'startedAt'>): Promise<HeldLock> {
  const base = path.join(location, `.lifeboat-${envKey.replace('/', '_')}`);
  const holderFile = `${base}.holder`;
  let db: Database.Database;
  try {
    db = new Database(`${base}.lock`);
  } catch (err) {
    throw await lockFileError(err, location, `${base}.lock`);
  }
  try {
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) throw await lockFileError(err, location, `${base}.lock`);
    const other = await readHolder(holderFile);
    const who = other ? `${other.operation} started ${other.startedAt} by process ${other.pid} on ${other.host} (${other.door})` : 'another Lifeboat process';
    throw new LifeboatError('LOCKED', `${envKey} is busy: a ${who} holds its lock.`, 'Wait for that run to finish, then try again. Only one backup or restore of an environment runs at a time.');
  }
  const cleared = await readHolder(holderFile);
  const me: LockHolder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), ...holder };
  try {
    await writeFileAtomic(holderFile, JSON.stringify(me));
  } catch (err) {
    db.exec('ROLLBACK');
    db.close();
    throw await lockFileError(err, location, holderFile);
  }
  let released = false;
  return {
    cleared,
    async release() {
      if (released) return;
      released = true;
      await fs.rm(holderFile, { force: true });
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

/**
 * Why the lock could not be made: a full disk (SQLite says SQLITE_FULL, or only "unable to open"
 * when no inode is left), no permission, a read-only disk; otherwise the error as it came.
 */
async function lockFileError(err: unknown, location: string, file: string): Promise<unknown> {
  const code = (err as { code?: string }).code ?? '';
  const space = await fs.statfs(location).catch(() => undefined);
  const full = code.startsWith('SQLITE_FULL') || (code.startsWith('SQLITE_CANTOPEN') && space !== undefined && (space.bavail === 0 || space.ffree === 0));
  if (full) {
    return new LifeboatError(
      'DISK_FULL',
      `Disk full at the backup location ${location}: Lifeboat could not create its lock file ${path.basename(file)} there.`,
      'Free space (or inodes) on that disk, or prune old sets, then try again; nothing was changed.',
    );
  }
  const known = fsError(err, file, true);
  if (known) return known;
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR')) {
    return new LifeboatError(
      'LOCATION_UNWRITABLE',
      `Lifeboat could not create its lock file in the backup location ${location} (${code}).`,
      'Check that the location is a folder on a mounted, writable disk that the user running Lifeboat may write, then try again; nothing was changed.',
    );
  }
  return err;
}

async function readHolder(file: string): Promise<LockHolder | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}
