import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Manifest, MANIFEST_FORMAT } from '../../shared/manifest.js';
import { LifeboatError } from './errors.js';

/** JSON with keys sorted at every level and no spaces: the form the integrity digest is taken over. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The SHA-256 of a manifest's canonical body (every field but `integrity`). A reader passes the
 * JSON as written, not as parsed: parsing drops fields this Lifeboat does not know (a newer one
 * may add some) and fills in defaults the file may lack, and either would change the digest.
 */
export function manifestDigest(manifest: object): string {
  const { integrity: _ignored, ...body } = manifest as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** Adds the integrity digest to a manifest body. */
export function sealManifest(body: Omit<Manifest, 'integrity'>): Manifest {
  return { ...body, integrity: { method: 'sha256', digest: manifestDigest(body) } };
}

/**
 * The text of `SHA256SUMS` (`sha256sum` format): one line per artifact, then the recovery card
 * when the manifest records it (sets made before it was recorded list only the artifacts).
 */
export function checksumList(m: Pick<Manifest, 'artifacts' | 'recoveryCard'>): string {
  const lines = m.artifacts.map((a) => `${a.sha256}  ${a.file}\n`);
  if (m.recoveryCard) lines.push(`${m.recoveryCard.sha256}  ${m.recoveryCard.file}\n`);
  return lines.join('');
}

export type ManifestRead = { ok: true; manifest: Manifest; digestMatches: boolean } | { ok: false; error: LifeboatError };

/**
 * Reads `manifest.json` of a set folder. A newer format is refused with a clear message before
 * anything else is read from it; a damaged one is described, never thrown past the caller.
 */
export async function readManifest(setDir: string): Promise<ManifestRead> {
  const file = path.join(setDir, 'manifest.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      ok: false,
      error: new LifeboatError(
        'NOT_A_SET',
        missing ? `${setDir} has no manifest.json.` : `${file} cannot be read: ${(err as Error).message}.`,
        missing ? 'This folder is not a sealed Lifeboat set (or its manifest was deleted); use another set.' : 'Check the permissions of the backup location.',
      ),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: new LifeboatError('NOT_A_SET', `${file} is not valid JSON: ${(err as Error).message}.`, 'The manifest is damaged; this set cannot be trusted. Use another set.') };
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === 'number' && format > MANIFEST_FORMAT) {
    return {
      ok: false,
      error: new LifeboatError(
        'NEWER_FORMAT',
        `This set was made by a newer Lifeboat (manifest format ${format}; this version reads up to ${MANIFEST_FORMAT}).`,
        'Update Lifeboat to read it; the set itself was not changed.',
      ),
    };
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`)
      .join('; ');
    return { ok: false, error: new LifeboatError('NOT_A_SET', `${file} does not describe a set: ${where}.`, 'The manifest is damaged or was edited; use another set.') };
  }
  return { ok: true, manifest: parsed.data, digestMatches: manifestDigest(json as object) === parsed.data.integrity.digest };
}
