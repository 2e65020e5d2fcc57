import { describe, expect, it } from 'vitest';
import { canonicalJson, manifestDigest, sealManifest } from '../../electron/engine/manifest.js';
import { Manifest, type Manifest as ManifestT } from '../../shared/manifest.js';

const body: Omit<ManifestT, 'integrity'> = {
  format: 1,
  id: 'lrl_prod_20261122_020304',
  app: 'lrl',
  env: 'prod',
  label: null,
  tool: { name: 'lifeboat', version: '0.1.0' },
  host: 'ws1',
  startedAt: '2026-11-22T02:03:04.000Z',
  finishedAt: '2026-11-22T02:03:09.000Z',
  environment: { name: 'prod', app: 'lrl', protection: 'normal', location: '/b', sources: [{ kind: 'sqlite', name: 'db', path: '/d/lrl.db' }] },
  artifacts: [
    {
      source: 'db',
      kind: 'sqlite',
      file: 'db.sqlite.gz',
      size: 10,
      sha256: 'a'.repeat(64),
      compression: 'gzip',
      encryption: 'none',
      details: { type: 'sqlite', rawSize: 4096, rawSha256: 'b'.repeat(64), pageSize: 4096, sqliteVersion: '3.46.0', journalMode: 'wal', tables: [{ name: 't', rows: 3 }] },
    },
  ],
};

describe('manifest', () => {
  it('canonical JSON sorts keys at every level and has no spaces', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });
  it('the digest does not depend on key order or on the integrity field itself', () => {
    const sealed = sealManifest(body);
    const reordered = JSON.parse(JSON.stringify({ integrity: sealed.integrity, ...Object.fromEntries(Object.entries(body).reverse()) }));
    expect(manifestDigest(reordered)).toBe(sealed.integrity.digest);
    expect(Manifest.parse(sealed)).toEqual(sealed);
  });
  it('any change to the body changes the digest', () => {
    const sealed = sealManifest(body);
    const edited = structuredClone(sealed);
    (edited.artifacts[0]!.details as { tables: { rows: number }[] }).tables[0]!.rows = 4;
    expect(manifestDigest(edited)).not.toBe(sealed.integrity.digest);
  });
});
