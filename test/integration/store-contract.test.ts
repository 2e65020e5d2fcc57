import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../shared/environment.js';
import { sealManifest } from '../../electron/engine/manifest.js';
import { LocalFolderStore } from '../../electron/engine/store/local-folder.js';
import { openStore } from '../../electron/engine/store/index.js';
import { useMounts } from '../support/mounts.js';
import { storeContract } from '../support/store-contract.js';
import { useTempDirs } from '../support/tools.js';

const temp = useTempDirs();
const mount = useMounts();

storeContract('LocalFolderStore', async () => new LocalFolderStore(path.join(temp(), 'sets')));

const A = 'shop_prod_20261122_020000';
const B = 'shop_prod_20261123_020000';

/** Seals a set with one artifact through the store, with the manifest a backup would write. */
async function sealOne(store: LocalFolderStore, id: string, bytes: string) {
  const partial = await store.createPartial(id);
  const out = await partial.create('assets.tar');
  out.stream.end(bytes);
  await out.commit();
  await partial.dropScratch();
  const sha = (b: string) => createHash('sha256').update(b).digest('hex');
  const environment = Environment.parse({ app: 'shop', name: 'prod', location: store.location, sources: [{ kind: 'files', name: 'assets', path: '/srv/assets', include: ['**/*'], exclude: [] }] });
  const manifest = sealManifest({
    format: 1,
    id,
    app: 'shop',
    env: 'prod',
    label: null,
    tool: { name: 'lifeboat', version: 'test' },
    host: 'h',
    startedAt: '2026-11-22T02:00:00.000Z',
    finishedAt: '2026-11-22T02:00:01.000Z',
    environment,
    artifacts: [{ source: 'assets', kind: 'files', file: 'assets.tar', size: bytes.length, sha256: sha(bytes), compression: 'none', encryption: 'none', details: { type: 'file-index', entries: 0 } }],
    recoveryCard: { file: 'RESTORE.txt', size: 5, sha256: sha('card\n') },
  });
  return partial.seal({ manifest, card: Buffer.from('card\n') });
}

describe('LocalFolderStore on disk', () => {
  it('writes the layout docs/FORMAT.md describes: hidden partial folder, then the sealed folder with its files', async () => {
    const location = path.join(temp(), 'sets');
    const store = new LocalFolderStore(location);
    await store.prepare();
    expect(statSync(location).mode & 0o777).toBe(0o700);
    const partial = await store.createPartial(A);
    expect(readdirSync(location)).toEqual([`.partial-${A}`]);
    expect(readdirSync(path.join(location, `.partial-${A}`))).toEqual(['.scratch']);
    expect(partial.dir).toBe(path.join(location, `.partial-${A}`));
    await partial.discard();
    const sealed = await sealOne(store, A, 'archive bytes');
    expect(readdirSync(location)).toEqual([A]);
    expect(sealed.dir).toBe(path.join(location, A));
    expect(readdirSync(sealed.dir).sort()).toEqual(['RESTORE.txt', 'SHA256SUMS', 'assets.tar', 'manifest.json']);
    for (const f of readdirSync(sealed.dir)) expect(statSync(path.join(sealed.dir, f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(sealed.dir, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}assets\.tar\n[0-9a-f]{64} {2}RESTORE\.txt\n$/);
    await store.pin(A, true, 'cli');
    expect(JSON.parse(readFileSync(path.join(location, `.lifeboat-pin-${A}`), 'utf8'))).toMatchObject({ set: A, door: 'cli' });
    const lock = await store.lock('shop/prod', { operation: 'backup', door: 'cli' });
    expect(readdirSync(location)).toEqual(expect.arrayContaining(['.lifeboat-shop_prod.holder', '.lifeboat-shop_prod.lock']));
    await lock.release();
    expect(readdirSync(location)).not.toContain('.lifeboat-shop_prod.holder');
    await store.remove(A, { afterHide: async () => expect(readdirSync(location)).toContain(`.deleting-${A}`) });
    expect(readdirSync(location).filter((n) => n.includes(A))).toEqual([`.lifeboat-pin-${A}`]);
  });

  it('hard-links an artifact of another set on the same disk: one inode, no second copy', async () => {
    const store = new LocalFolderStore(path.join(temp(), 'sets'));
    await store.prepare();
    const first = await sealOne(store, A, 'same bytes');
    const partial = await store.createPartial(B);
    expect(await partial.linkFrom(first, 'assets.tar')).toBe('linked');
    const a = statSync(path.join(first.dir, 'assets.tar'));
    const b = statSync(path.join(partial.dir, 'assets.tar'));
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
  });

  it('copies an artifact from a set on another disk, where a hard link cannot reach', async () => {
    const root = temp();
    const other = new LocalFolderStore(path.join(mount(path.join(root, 'other-disk'), 'size=1m'), 'sets'));
    await other.prepare();
    const first = await sealOne(other, A, 'bytes on another disk');
    const store = new LocalFolderStore(path.join(root, 'sets'));
    await store.prepare();
    const partial = await store.createPartial(B);
    expect(await partial.linkFrom(first, 'assets.tar')).toBe('copied');
    expect(statSync(path.join(partial.dir, 'assets.tar')).ino).not.toBe(statSync(path.join(first.dir, 'assets.tar')).ino);
    expect(await text(partial.open('assets.tar'))).toBe('bytes on another disk');
    await expect(partial.linkFrom(first, 'assets.tar')).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('refuses to list a location that is not there, with its code, instead of calling it empty', async () => {
    const store = openStore(path.join(temp(), 'not-mounted'));
    await expect(store.list()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.space()).toMatchObject({ missing: true });
  });

  it('refuses a read-only location before writing anything', async () => {
    const dir = mount(path.join(temp(), 'ro'), 'size=1m,ro');
    await expect(openStore(path.join(dir, 'sets')).prepare()).rejects.toMatchObject({ code: 'LOCATION_UNWRITABLE' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
