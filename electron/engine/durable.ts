import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Flushes a file's data to the disk. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Flushes a folder's entries (names created, renamed or removed in it) to the disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes a whole file atomically: a reader or a killed process sees either the old file or the
 * new one, never a half-written one (temp file in the same folder, fsync, rename, fsync folder).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  try {
    const fh = await fs.open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    await fsyncDir(dir);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Writes a file that must not exist yet, fsynced; used inside a partial set folder. */
export async function writeNewFile(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const fh = await fs.open(file, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * `mkdir -p` that always ends. Node's own `recursive: true` loops for ever (at full CPU, on a thread
 * a cancel cannot stop) where the kernel refuses a name with ENOENT although its parent exists, as
 * /proc does. This creates one missing folder at a time, from the nearest existing one down, and
 * fails with the first refusal. Returns the first folder it created, or undefined if all existed.
 */
export async function makeFolders(dir: string, mode = 0o700): Promise<string | undefined> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const exists = await fs.stat(at).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    if (exists || path.dirname(at) === at) break;
    missing.unshift(at);
  }
  for (const folder of missing) {
    await fs.mkdir(folder, { mode }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  return missing[0];
}
