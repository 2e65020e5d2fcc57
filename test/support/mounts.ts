import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { afterEach } from 'vitest';

/**
 * Small tmpfs mounts for a test (we run as root, in CI too), unmounted after it: a read-only
 * filesystem, or one with no inode left, without touching a real disk. Call `useMounts()` after
 * `useTempDirs()`, so the mounts are gone before the folders under them are removed.
 */
export function useMounts(): (dir: string, options: string) => string {
  const mounted: string[] = [];
  afterEach(() => {
    for (const dir of mounted.splice(0).reverse()) spawnSync('umount', ['-l', dir]);
  });
  return (dir, options) => {
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'lifeboat-test', dir], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`This test mounts a small tmpfs (${options}) and must run as root with mount(8) from the Debian package mount: ${(err as Error).message}`, { cause: err });
    }
    mounted.push(dir);
    return dir;
  };
}
