import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { checksumList, manifestDigest } from '../../electron/engine/manifest.js';
import type { Manifest } from '../../shared/manifest.js';

/**
 * Records an artifact's present bytes in its set's manifest, SHA256SUMS and integrity digest, as
 * if the damage had happened before the set was sealed: the byte checks then pass, and only the
 * source's own content checks can find what is wrong.
 */
export function resealArtifact(setDir: string, file: string): void {
  const manifestFile = path.join(setDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const artifact = manifest.artifacts.find((a) => a.file === file);
  if (!artifact) throw new Error(`${file} is not an artifact of ${setDir}`);
  artifact.size = statSync(path.join(setDir, file)).size;
  artifact.sha256 = createHash('sha256')
    .update(readFileSync(path.join(setDir, file)))
    .digest('hex');
  manifest.integrity.digest = manifestDigest(manifest);
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(path.join(setDir, 'SHA256SUMS'), checksumList(manifest));
}
