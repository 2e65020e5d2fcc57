import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface OpenFiles {
  /** Whether this platform lets us look (Linux's /proc). */
  supported: boolean;
  /** Processes with one of the paths (or a file under the folder) open, as `name (pid N): path`. */
  holders: string[];
  /** Processes whose open files we were not allowed to read (other users' processes). */
  hidden: number;
}

/**
 * Finds the processes other than this one that have a file open under `target` (a file, or a
 * folder and everything in it), or their working folder inside it, by reading /proc/<pid>/fd.
 * Only Linux can answer; elsewhere `supported` is false and the caller says so.
 */
export async function openFilesUnder(targets: string[], folder: boolean): Promise<OpenFiles> {
  let pids: string[];
  try {
    pids = (await fs.readdir('/proc')).filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid);
  } catch {
    return { supported: false, holders: [], hidden: 0 };
  }
  const matches = (p: string) => targets.some((t) => p === t || (folder && p.startsWith(`${t}${path.sep}`)));
  const holders: string[] = [];
  let hidden = 0;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await fs.readdir(`/proc/${pid}/fd`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EPERM') hidden++;
      continue; // ENOENT: the process ended meanwhile
    }
    const seen: string[] = [];
    const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd && matches(cwd)) seen.push(`${cwd} (working folder)`);
    for (const fd of fds) {
      const link = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const file = link.replace(/ \(deleted\)$/, '');
      if (file && matches(file) && !seen.includes(file)) seen.push(file);
    }
    if (seen.length) {
      const name = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
      holders.push(`${name} (pid ${pid}): ${seen.slice(0, 3).join(', ')}${seen.length > 3 ? ` and ${seen.length - 3} more` : ''}`);
    }
  }
  return { supported: true, holders, hidden };
}
