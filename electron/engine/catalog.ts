import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Environment, environmentKey } from '../../shared/environment.js';
import type { Manifest } from '../../shared/manifest.js';
import type { DrillReport } from '../../shared/drill.js';
import type { ActivityEntry, SetSummary } from '../../shared/api.js';
import type { ActivityAction } from '../../shared/activity.js';
import { LifeboatError } from './errors.js';

/** Numbered migrations; `PRAGMA user_version` is the number applied. Append, never edit. */
const MIGRATIONS: string[] = [
  `CREATE TABLE environments (
     key TEXT PRIMARY KEY, app TEXT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE TABLE sets (
     id TEXT PRIMARY KEY, env TEXT NOT NULL, path TEXT NOT NULL, label TEXT,
     started_at TEXT NOT NULL, finished_at TEXT NOT NULL, size_bytes INTEGER NOT NULL,
     artifacts INTEGER NOT NULL, manifest_digest TEXT NOT NULL);
   CREATE INDEX sets_env ON sets (env, started_at);
   CREATE TABLE drills (
     id INTEGER PRIMARY KEY, env TEXT NOT NULL, set_id TEXT NOT NULL, at TEXT NOT NULL,
     passed INTEGER NOT NULL, duration_ms REAL NOT NULL, report TEXT NOT NULL);
   CREATE INDEX drills_set ON drills (set_id, at);
   CREATE TABLE activity (
     id INTEGER PRIMARY KEY, at TEXT NOT NULL, env TEXT, action TEXT NOT NULL, door TEXT NOT NULL,
     outcome TEXT NOT NULL, summary TEXT NOT NULL, detail TEXT);
   CREATE INDEX activity_env ON activity (env, at);`,
  // 2: pins, mirrored from the marker files in the location (the truth) at every rescan.
  `ALTER TABLE sets ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;`,
];

type SetRow = { id: string; env: string; path: string; label: string | null; started_at: string; finished_at: string; size_bytes: number; artifacts: number; pinned: number };

/**
 * Lifeboat's own database: environments, the index of sealed sets, drill reports and the activity
 * log. The backup folders are the truth; everything here but environments and history can be
 * rebuilt by rescanning them.
 */
export class Catalog {
  readonly db: Database.Database;

  constructor(home: string) {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const file = path.join(home, 'catalog.sqlite');
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate(file);
  }

  private migrate(file: string): void {
    const version = Number(this.db.pragma('user_version', { simple: true }));
    if (version > MIGRATIONS.length) {
      this.db.close();
      throw new LifeboatError(
        'CATALOG_FAILED',
        `The catalog ${file} was made by a newer Lifeboat (schema ${version}; this version knows ${MIGRATIONS.length}).`,
        'Update Lifeboat, or point LIFEBOAT_HOME at another folder and run `lifeboat catalog rebuild`.',
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  saveEnvironment(env: Environment): void {
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO environments (key, app, name, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
      )
      .run(environmentKey(env), env.app, env.name, JSON.stringify(env), now, now);
  }

  environments(): Environment[] {
    const rows = this.db.prepare('SELECT config FROM environments ORDER BY app, name').pluck().all() as string[];
    return rows.map((c) => Environment.parse(JSON.parse(c)));
  }

  /** Environments whose key is `ref`, or whose name is `ref`. */
  findEnvironments(ref: string): Environment[] {
    const rows = this.db.prepare('SELECT config FROM environments WHERE key = ? OR name = ? ORDER BY key').pluck().all(ref, ref) as string[];
    return rows.map((c) => Environment.parse(JSON.parse(c)));
  }

  /** Records a sealed set found on disk (or just written), with its folder's bytes (`setFolderBytes`). */
  upsertSet(manifest: Manifest, setPath: string, sizeBytes: number): void {
    this.db
      .prepare(
        `INSERT INTO sets (id, env, path, label, started_at, finished_at, size_bytes, artifacts, manifest_digest)
                VALUES (@id, @env, @path, @label, @started, @finished, @size, @artifacts, @digest)
                ON CONFLICT(id) DO UPDATE SET path = excluded.path, label = excluded.label, size_bytes = excluded.size_bytes,
                  artifacts = excluded.artifacts, manifest_digest = excluded.manifest_digest`,
      )
      .run({
        id: manifest.id,
        env: `${manifest.app}/${manifest.env}`,
        path: setPath,
        label: manifest.label,
        started: manifest.startedAt,
        finished: manifest.finishedAt,
        size: sizeBytes,
        artifacts: manifest.artifacts.length,
        digest: manifest.integrity.digest,
      });
  }

  setIds(envKey: string): Set<string> {
    return new Set(this.db.prepare('SELECT id FROM sets WHERE env = ?').pluck().all(envKey) as string[]);
  }

  removeSet(id: string): void {
    this.db.prepare('DELETE FROM sets WHERE id = ?').run(id);
  }

  /** Sets of an environment, newest first, each with its latest drill. */
  sets(envKey: string): SetSummary[] {
    const rows = this.db.prepare('SELECT * FROM sets WHERE env = ? ORDER BY started_at DESC, id DESC').all(envKey) as SetRow[];
    const drill = this.db.prepare('SELECT at, passed FROM drills WHERE set_id = ? ORDER BY at DESC, id DESC LIMIT 1');
    return rows.map((r) => {
      const d = drill.get(r.id) as { at: string; passed: number } | undefined;
      return {
        id: r.id,
        env: r.env,
        path: r.path,
        label: r.label,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        durationMs: Date.parse(r.finished_at) - Date.parse(r.started_at),
        sizeBytes: r.size_bytes,
        artifacts: r.artifacts,
        drill: d ? { at: d.at, passed: d.passed === 1 } : null,
        pinned: r.pinned === 1,
      };
    });
  }

  /** Mirrors the pins found in the location: exactly these sets of the environment are pinned. */
  setPins(envKey: string, pinned: ReadonlySet<string>): void {
    const clear = this.db.prepare('UPDATE sets SET pinned = 0 WHERE env = ?');
    const pin = this.db.prepare('UPDATE sets SET pinned = 1 WHERE env = ? AND id = ?');
    this.db.transaction(() => {
      clear.run(envKey);
      for (const id of pinned) pin.run(envKey, id);
    })();
  }

  /** Whether the set's latest drill passed; null when it was never drilled. */
  drillPassed(setId: string): boolean | null {
    const passed = this.db.prepare('SELECT passed FROM drills WHERE set_id = ? ORDER BY at DESC, id DESC LIMIT 1').pluck().get(setId) as number | undefined;
    return passed === undefined ? null : passed === 1;
  }

  /** The newest activity entry of one action for an environment, with its detail. */
  latestActivity(envKey: string, action: ActivityAction): { at: string; outcome: ActivityEntry['outcome']; summary: string; detail: unknown } | null {
    const r = this.db.prepare('SELECT at, outcome, summary, detail FROM activity WHERE env = ? AND action = ? ORDER BY id DESC LIMIT 1').get(envKey, action) as
      { at: string; outcome: ActivityEntry['outcome']; summary: string; detail: string | null } | undefined;
    return r ? { at: r.at, outcome: r.outcome, summary: r.summary, detail: r.detail === null ? null : JSON.parse(r.detail) } : null;
  }

  recordDrill(envKey: string, report: DrillReport): void {
    this.db
      .prepare('INSERT INTO drills (env, set_id, at, passed, duration_ms, report) VALUES (?, ?, ?, ?, ?, ?)')
      .run(envKey, report.setId, report.startedAt, report.passed ? 1 : 0, report.durationMs, JSON.stringify(report));
  }

  /** The newest drill report of a set, if it was ever drilled. */
  latestDrillReport(setId: string): DrillReport | null {
    const text = this.db.prepare('SELECT report FROM drills WHERE set_id = ? ORDER BY at DESC, id DESC LIMIT 1').pluck().get(setId) as string | undefined;
    return text ? (JSON.parse(text) as DrillReport) : null;
  }

  lastDrill(envKey: string): { setId: string; at: string; passed: boolean } | null {
    const r = this.db.prepare('SELECT set_id, at, passed FROM drills WHERE env = ? ORDER BY at DESC, id DESC LIMIT 1').get(envKey) as { set_id: string; at: string; passed: number } | undefined;
    return r ? { setId: r.set_id, at: r.at, passed: r.passed === 1 } : null;
  }

  addActivity(entry: Omit<ActivityEntry, 'id' | 'at'> & { detail?: unknown }): void {
    this.db
      .prepare('INSERT INTO activity (at, env, action, door, outcome, summary, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(new Date().toISOString(), entry.env, entry.action, entry.door, entry.outcome, entry.summary, entry.detail === undefined ? null : JSON.stringify(entry.detail));
  }

  activity(envKey: string | undefined, limit: number): ActivityEntry[] {
    const sql = `SELECT id, at, env, action, door, outcome, summary FROM activity ${envKey ? 'WHERE env = ?' : ''} ORDER BY id DESC LIMIT ?`;
    const params = envKey ? [envKey, limit] : [limit];
    return this.db.prepare(sql).all(...params) as ActivityEntry[];
  }
}
