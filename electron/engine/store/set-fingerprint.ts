import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { hashFile } from '../pipeline.js';

/**
 * A digest of everything in a set folder: each entry's path and type, each file's size and the
 * SHA-256 of its bytes, each link's target. Two equal digests mean the folder holds the same
 * bytes, so a drill that passed on it would pass again; metadata (times) is not trusted for that.
 */
export async function setFingerprint(setDir: string, signal?: AbortSignal): Promise<string> {
  const digest = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const names = (await fs.readdir(path.join(setDir, rel))).sort();
    for (const name of names) {
      const p = path.join(rel, name);
      const full = path.join(setDir, p);
      const key = JSON.stringify(p); // quoted, so no name can pass for two entries
      const st = await fs.lstat(full);
      if (st.isDirectory()) {
        digest.update(`d ${key}\n`);
        await walk(p);
      } else if (st.isFile()) {
        const { size, sha256 } = await hashFile(full, signal);
        digest.update(`f ${key} ${size} ${sha256}\n`);
      } else if (st.isSymbolicLink()) digest.update(`l ${key} ${JSON.stringify(await fs.readlink(full))}\n`);
      else digest.update(`o ${key}\n`);
    }
  };
  await walk('');
  return digest.digest('hex');
}
