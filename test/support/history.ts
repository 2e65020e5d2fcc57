import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Manifest } from '../../shared/manifest.js';
import { sealManifest } from '../../electron/engine/manifest.js';
import { recoveryCard } from '../../electron/engine/recovery-card.js';
import { stamp } from '../../electron/engine/set-id.js';

/**
 * A backup history at chosen times, made from one real sealed set: each copy gets the id, times
 * and label of its moment and a manifest sealed again, so it drills and restores like the original.
 */
export function copySetAt(setDir: string, at: Date, opts: { label?: string | null; durationMs?: number } = {}): { id: string; path: string } {
  const manifest = JSON.parse(readFileSync(path.join(setDir, 'manifest.json'), 'utf8')) as Manifest;
  const id = `${manifest.app}_${manifest.env}_${stamp(at)}`;
  const dir = path.join(path.dirname(setDir), id);
  rmSync(dir, { recursive: true, force: true });
  cpSync(setDir, dir, { recursive: true });
  const { integrity: _old, ...body } = manifest;
  const sealed = sealManifest({ ...body, id, label: opts.label ?? null, startedAt: at.toISOString(), finishedAt: new Date(at.getTime() + (opts.durationMs ?? 1000)).toISOString() });
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(path.join(dir, 'RESTORE.txt'), recoveryCard(sealed), { mode: 0o600 });
  return { id, path: dir };
}
