import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * The one measure of a set's size everywhere (catalog, History, prune plans, deletions): the bytes
 * of the regular files in its folder, which is exactly what deleting it frees. The manifest's
 * artifact sizes leave out manifest.json, SHA256SUMS and RESTORE.txt, so a dry run that used them
 * said a few KB less per set than the deletion that followed.
 */
export async function setFolderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await setFolderBytes(full);
    else if (entry.isFile()) total += (await fs.stat(full)).size;
  }
  return total;
}
