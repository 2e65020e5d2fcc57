import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

/**
 * A backup location whose disk is already full when the run creates its lock: a full disk later
 * on was a clean DISK_FULL, this one was "INTERNAL: Unexpected error: database or disk is full"
 * (no bytes left) or "unable to open database file" (no inode left).
 */

const tempDir = useTempDirs();
const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
});

/** A small tmpfs the test mounts itself (as restore-faults.test.ts does). Needs root (CI runs as root). */
function smallDisk(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mounting a tmpfs at ${dir} failed (${r.stderr.trim()}): the full-disk tests need root and the mount command (Debian package mount)`);
  mounts.push(dir);
}

/** Writes into `dir` until its disk refuses: by bytes (one growing file) or by inodes (empty files). */
function fill(dir: string, by: 'bytes' | 'inodes'): void {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < 100_000; i++) {
    try {
      if (by === 'bytes') writeFileSync(path.join(dir, 'filler'), chunk, { flag: 'a' });
      else writeFileSync(path.join(dir, `filler-${i}`), '');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw err;
    }
  }
  throw new Error(`${dir} never filled up`);
}

describe('a full disk while the lock is created', () => {
  for (const by of ['bytes', 'inodes'] as const) {
    it(`no ${by} left: DISK_FULL naming the location, exit 1, no set`, async () => {
      const root = tempDir();
      makeLiveData(root);
      const location = path.join(root, 'tiny');
      smallDisk(location, by === 'bytes' ? 'size=256k' : 'size=1m,nr_inodes=8');
      const home = path.join(root, 'home');
      expect((await runCli(['env', 'import', writeEnvFile(root, demoEnvironment(root, { location }))], home)).code).toBe(0);
      fill(location, by);

      const r = await runCli(['backup', '--env', 'prod', '--json'], home);
      expect(r.code, r.stderr).toBe(1);
      const { error } = jsonOf<{ error: { code: string; message: string; hint: string } }>(r);
      expect(error.code, error.message).toBe('DISK_FULL');
      expect(error.message).toContain(location);
      expect(error.hint).toMatch(/Free space/);
      expect(readdirSync(location).filter((n) => !n.startsWith('filler') && !n.startsWith('.lifeboat-'))).toEqual([]);
      expect(existsSync(path.join(location, '.lifeboat-shop_prod.holder'))).toBe(false);
    });
  }
});
