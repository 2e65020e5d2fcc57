import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsyncDir, writeFileAtomic } from './durable.js';

/** One rename a restore makes; the journal lists them before they happen. */
export interface Move {
  from: string;
  to: string;
}

export interface JournalSource {
  source: string;
  target: string;
  staged: string;
  /** In order: the live target and its companions aside, then the staged copy into place. */
  moves: Move[];
}

export interface Journal {
  id: string;
  env: string;
  location: string;
  setId: string;
  pid: number;
  createdAt: string;
  /** `committed` once the restored data was verified; anything else rolls back after a crash. */
  /** `applying`: sources written in place are being written; nothing has been renamed yet. */
  state: 'staging' | 'applying' | 'swapping' | 'verifying' | 'committed';
  sources: JournalSource[];
  /** Sources written in place (a database, a command): no renames to undo, so a crash is told, not rolled back. */
  inPlace?: { source: string; target: string }[];
  /** The pre-restore safety set, once taken. */
  safetySet?: string;
}

const exists = (p: string) =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );

/**
 * The small file a restore keeps in LIFEBOAT_HOME/restores so that the next start can finish or
 * undo it. Every rename is planned in the journal before it is made; each rename is to a name of
 * its own, so whether it happened can be read off the disk even if the journal write after it was
 * lost. Written atomically: a reader sees the previous state or the next, never half of one.
 */
export class RestoreJournal {
  private constructor(
    readonly file: string,
    readonly data: Journal,
  ) {}

  static dir(home: string): string {
    return path.join(home, 'restores');
  }

  static async create(home: string, data: Journal): Promise<RestoreJournal> {
    await fs.mkdir(RestoreJournal.dir(home), { recursive: true, mode: 0o700 });
    const j = new RestoreJournal(path.join(RestoreJournal.dir(home), `${data.id}.json`), data);
    await j.save();
    return j;
  }

  /** Every journal left in the home folder (by this or a killed process). */
  static async all(home: string): Promise<RestoreJournal[]> {
    const dir = RestoreJournal.dir(home);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const out: RestoreJournal[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const file = path.join(dir, name);
      try {
        out.push(new RestoreJournal(file, JSON.parse(await fs.readFile(file, 'utf8')) as Journal));
      } catch {
        // A journal that cannot be parsed was never completely written: its restore moved nothing.
        await fs.rm(file, { force: true });
      }
    }
    return out;
  }

  async save(): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(this.data, null, 2));
  }

  async setState(state: Journal['state']): Promise<void> {
    this.data.state = state;
    await this.save();
  }

  /** Makes a source's planned renames, in order, skipping those already made. */
  async swap(entry: JournalSource, between?: () => Promise<void>): Promise<void> {
    for (const [i, move] of entry.moves.entries()) {
      const last = i === entry.moves.length - 1;
      if (!(await exists(move.from))) {
        if (await exists(move.to)) continue; // made before a crash
        if (!last) continue; // a -wal or -shm that SQLite removed meanwhile: nothing to move aside
      }
      await fs.rename(move.from, move.to);
      if (!last) await between?.();
    }
    await fsyncParents(entry.moves);
  }

  /**
   * Undoes every rename that was made, newest first, and removes staged copies: the target is as
   * before. While staging nothing was renamed. The staged copy was moved into place only if the
   * live target had first been moved aside (or there was none): a target that exists while its
   * old copy does not is still the live data, and is never touched.
   */
  async rollBack(): Promise<void> {
    for (const entry of [...this.data.sources].reverse()) {
      if (this.data.state !== 'staging' && this.data.state !== 'applying') {
        const aside = entry.moves.slice(0, -1);
        const last = entry.moves[entry.moves.length - 1]!;
        const targetMovedAside = aside.length === 0 || (await exists(aside[0]!.to));
        if (targetMovedAside && (await exists(last.to)) && !(await exists(last.from))) await fs.rename(last.to, last.from);
        for (const move of [...aside].reverse()) {
          if ((await exists(move.to)) && !(await exists(move.from))) await fs.rename(move.to, move.from);
        }
      }
      await fs.rm(entry.staged, { recursive: true, force: true });
      await fsyncParents(entry.moves);
    }
  }

  /** After a verified restore: removes the old copies moved aside (the safety set keeps them). */
  async discardOld(): Promise<void> {
    for (const entry of this.data.sources) {
      for (const move of entry.moves.slice(0, -1)) await fs.rm(move.to, { recursive: true, force: true });
    }
  }

  async remove(): Promise<void> {
    await fs.rm(this.file, { force: true });
  }
}

async function fsyncParents(moves: Move[]): Promise<void> {
  for (const dir of new Set(moves.flatMap((m) => [path.dirname(m.from), path.dirname(m.to)]))) await fsyncDir(dir).catch(() => undefined);
}
