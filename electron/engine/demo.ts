import Database from 'better-sqlite3';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnvironmentInput } from '../../shared/environment.js';

/** Notes a newcomer can recognise after a restore. */
const TITLES = ['Welcome to the demo', 'Shopping list', 'Meeting notes', 'Ideas', 'Recipes', 'Reading list', 'Travel plans', 'Budget'];

/**
 * A small application a newcomer can back up, drill and restore in the first minutes: a SQLite
 * database of notes and a folder of attachments, made in Lifeboat's own data folder. Existing demo
 * data is left as it is, so asking twice never undoes what the operator changed.
 */
export async function makeDemo(home: string): Promise<EnvironmentInput> {
  const root = path.join(home, 'demo');
  const live = path.join(root, 'live');
  const db = path.join(live, 'notes.db');
  const assets = path.join(live, 'attachments');
  await fs.mkdir(assets, { recursive: true });
  if (!(await exists(db))) {
    const tmp = `${db}.creating`;
    await fs.rm(tmp, { force: true });
    const conn = new Database(tmp);
    try {
      conn.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);
                 CREATE TABLE tags (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL REFERENCES notes(id), tag TEXT NOT NULL);`);
      const note = conn.prepare('INSERT INTO notes (title, body, created_at) VALUES (?, ?, ?)');
      const tag = conn.prepare('INSERT INTO tags (note_id, tag) VALUES (?, ?)');
      conn.transaction(() => {
        for (let i = 0; i < 120; i++) {
          const title = `${TITLES[i % TITLES.length]} ${Math.floor(i / TITLES.length) + 1}`;
          const id = note.run(title, `Demo note number ${i + 1}. Change or delete it, then restore a backup to get it back.`, new Date(Date.UTC(2026, 0, 1 + i)).toISOString()).lastInsertRowid;
          tag.run(id, i % 2 ? 'home' : 'work');
        }
      })();
    } finally {
      conn.close();
    }
    await fs.rename(tmp, db);
  }
  for (let i = 1; i <= 12; i++) {
    const file = path.join(assets, `attachment-${String(i).padStart(2, '0')}.txt`);
    if (!(await exists(file))) await fs.writeFile(file, `Attachment ${i} of the demo notes.\n`.repeat(40 * i));
  }
  return {
    app: 'demo',
    name: 'notes',
    protection: 'normal',
    location: path.join(root, 'backups'),
    sources: [
      { kind: 'sqlite', name: 'notes', path: db },
      { kind: 'files', name: 'attachments', path: assets, include: ['**/*'], exclude: [] },
    ],
  };
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
