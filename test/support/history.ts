import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Manifest } from '../../shared/manifest.js';
import { checksumList, sealManifest } from '../../electron/engine/manifest.js';
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
  const { integrity: _old, recoveryCard: _card, ...body } = manifest;
  const described = { ...body, id, label: opts.label ?? null, startedAt: at.toISOString(), finishedAt: new Date(at.getTime() + (opts.durationMs ?? 1000)).toISOString() };
  const card = Buffer.from(recoveryCard(described));
  const sealed = sealManifest({ ...described, recoveryCard: { file: 'RESTORE.txt', size: card.length, sha256: createHash('sha256').update(card).digest('hex') } });
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(path.join(dir, 'RESTORE.txt'), card, { mode: 0o600 });
  writeFileSync(path.join(dir, 'SHA256SUMS'), checksumList(sealed), { mode: 0o600 });
  return { id, path: dir };
}
