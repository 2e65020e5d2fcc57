import { createHash } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../shared/environment.js';
import type { Manifest } from '../../shared/manifest.js';
import { LifeboatError } from '../../electron/engine/errors.js';
import { sealManifest } from '../../electron/engine/manifest.js';
import { recoveryCard } from '../../electron/engine/recovery-card.js';
import type { PartialSet, SetStore } from '../../electron/engine/store/index.js';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes an artifact file through the store's own `create`, as the codec will. */
async function writeArtifact(partial: PartialSet, file: string, bytes: string): Promise<void> {
  const out = await partial.create(file);
  out.stream.end(bytes);
  await out.commit();
}

/** A manifest that describes `files` (name → bytes) of set `id`, sealed as a backup seals it. */
function manifestFor(id: string, files: Record<string, string>): { manifest: Manifest; card: Buffer } {
  const environment = Environment.parse({ app: 'shop', name: 'prod', location: '/nowhere', sources: [{ kind: 'files', name: 'assets', path: '/srv/assets', include: ['**/*'], exclude: [] }] });
  const described = {
    format: 1,
    id,
    app: 'shop',
    env: 'prod',
    label: null,
    tool: { name: 'lifeboat' as const, version: 'test' },
    host: 'contract',
    startedAt: '2026-11-22T02:00:00.000Z',
    finishedAt: '2026-11-22T02:00:01.000Z',
    environment,
    artifacts: Object.entries(files).map(([file, bytes]) => ({
      source: 'assets',
      kind: 'files',
      file,
      size: Buffer.byteLength(bytes),
      sha256: sha(bytes),
      compression: 'none' as const,
      encryption: 'none' as const,
      details: { type: 'file-index' as const, entries: 0 },
    })),
  };
  const card = Buffer.from(recoveryCard(described));
  return { manifest: sealManifest({ ...described, recoveryCard: { file: 'RESTORE.txt', size: card.length, sha256: sha(card) } }), card };
}

/** Seals a set `id` holding `files` through the store, start to end. */
async function sealSet(store: SetStore, id: string, files: Record<string, string>) {
  const partial = await store.createPartial(id);
  for (const [file, bytes] of Object.entries(files)) await writeArtifact(partial, file, bytes);
  await partial.dropScratch();
  return partial.seal(manifestFor(id, files));
}

const A = 'shop_prod_20261122_020000';
const B = 'shop_prod_20261123_020000';

/**
 * What every set store must do, whatever it stores sets on. `makeStore` gives a new, empty store
 * each time; the suite only talks to the `SetStore` interface, so a remote store runs it unchanged.
 */
export function storeContract(name: string, makeStore: () => Promise<SetStore>): void {
  describe(`set store contract: ${name}`, () => {
    it('lists an empty store as empty', async () => {
      const store = await makeStore();
      await store.prepare();
      expect(await store.list()).toEqual({ sealed: [], partial: [], deleting: [], pinned: [] });
      expect(await store.has(A)).toBe(false);
    });

    it('keeps a partial set out of the sealed list until it is sealed, then lists it with its manifest', async () => {
      const store = await makeStore();
      await store.prepare();
      const partial = await store.createPartial(A);
      await writeArtifact(partial, 'assets.tar', 'the bytes of an archive\n');
      expect(await text(partial.open('assets.tar'))).toBe('the bytes of an archive\n');
      let listing = await store.list();
      expect(listing.sealed).toEqual([]);
      expect(listing.partial).toEqual([A]);
      expect(await store.has(A)).toBe(false);

      await partial.dropScratch();
      let sawBeforeSeal = false;
      const sealed = await partial.seal({
        ...manifestFor(A, { 'assets.tar': 'the bytes of an archive\n' }),
        beforeSeal: async () => {
          sawBeforeSeal = true;
          expect((await store.list()).sealed).toEqual([]); // everything durable, nothing visible yet
        },
      });
      expect(sawBeforeSeal).toBe(true);
      listing = await store.list();
      expect(listing.sealed).toEqual([A]);
      expect(listing.partial).toEqual([]);
      expect(await store.has(A)).toBe(true);

      const read = await store.set(A).readManifest();
      expect(read.ok && read.digestMatches).toBe(true);
      if (read.ok) expect(read.manifest.artifacts.map((a) => [a.file, a.size])).toEqual([['assets.tar', 24]]);
      expect(await text(sealed.open('assets.tar'))).toBe('the bytes of an archive\n');
      expect(await text(store.set(A).open('assets.tar', { start: 4 }))).toBe('bytes of an archive\n');
      // Its size counts every stored file (artifact, manifest, SHA256SUMS, card): what removing it frees.
      expect(await sealed.bytes()).toBeGreaterThan(24);
      expect(await sealed.fingerprint()).toBe(await store.set(A).fingerprint());
    });

    it('discards a partial set and everything in it', async () => {
      const store = await makeStore();
      await store.prepare();
      const partial = await store.createPartial(A);
      await writeArtifact(partial, 'assets.tar', 'x');
      await partial.discard();
      expect(await store.list()).toEqual({ sealed: [], partial: [], deleting: [], pinned: [] });
    });

    it('cleans partial sets of killed runs, only those the caller names as its own', async () => {
      const store = await makeStore();
      await store.prepare();
      await store.createPartial(A); // never sealed nor discarded: a run killed while writing
      await store.createPartial('blog_prod_20261122_020000');
      const cleaned = await store.cleanPartials((id) => id.startsWith('shop_prod_'));
      expect(cleaned).toHaveLength(1);
      expect(cleaned[0]).toContain(A);
      expect((await store.list()).partial).toEqual(['blog_prod_20261122_020000']);
    });

    it('refuses an artifact name that would leave its set', async () => {
      const store = await makeStore();
      await store.prepare();
      const partial = await store.createPartial(A);
      await expect(partial.create('../escape')).rejects.toBeInstanceOf(LifeboatError);
      await expect(partial.create('a/b')).rejects.toBeInstanceOf(LifeboatError);
      expect(() => store.set(A).open('../../etc/passwd')).toThrow(LifeboatError);
    });

    it('changes the fingerprint when a stored byte changes', async () => {
      const store = await makeStore();
      await store.prepare();
      const one = await sealSet(store, A, { 'assets.tar': 'one' });
      const two = await sealSet(store, B, { 'assets.tar': 'two' });
      expect(await one.fingerprint()).not.toBe(await two.fingerprint());
    });

    it('links or copies an artifact from another set, with the same bytes', async () => {
      const store = await makeStore();
      await store.prepare();
      const first = await sealSet(store, A, { 'assets.tar': 'unchanged since yesterday\n' });
      const partial = await store.createPartial(B);
      const how = await partial.linkFrom(first, 'assets.tar');
      expect(['linked', 'copied']).toContain(how);
      await partial.dropScratch();
      const second = await partial.seal(manifestFor(B, { 'assets.tar': 'unchanged since yesterday\n' }));
      expect(await text(second.open('assets.tar'))).toBe('unchanged since yesterday\n');
      // Removing the first set leaves the second whole.
      await store.remove(A);
      expect(await text(store.set(B).open('assets.tar'))).toBe('unchanged since yesterday\n');
      expect((await store.set(B).readManifest()).ok).toBe(true);
    });

    it('pins and unpins a set without changing it', async () => {
      const store = await makeStore();
      await store.prepare();
      const set = await sealSet(store, A, { 'assets.tar': 'x' });
      const before = await set.fingerprint();
      await store.pin(A, true, 'test');
      expect(await store.isPinned(A)).toBe(true);
      expect((await store.list()).pinned).toEqual([A]);
      expect((await store.list()).sealed).toEqual([A]);
      expect(await set.fingerprint()).toBe(before);
      await store.pin(A, false, 'test');
      expect(await store.isPinned(A)).toBe(false);
      expect((await store.list()).pinned).toEqual([]);
    });

    it('gives the lock to one holder at a time, naming the holder to the second', async () => {
      const store = await makeStore();
      await store.prepare();
      const held = await store.lock('shop/prod', { operation: 'backup', door: 'test' });
      expect(held.cleared).toBeNull();
      const second = await store.lock('shop/prod', { operation: 'prune', door: 'test' }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(second).toBeInstanceOf(LifeboatError);
      expect((second as LifeboatError).code).toBe('LOCKED');
      expect((second as LifeboatError).message).toContain('backup started');
      // Another environment's lock is its own.
      const other = await store.lock('shop/staging', { operation: 'backup', door: 'test' });
      await other.release();
      await held.release();
      const again = await store.lock('shop/prod', { operation: 'prune', door: 'test' });
      expect(again.cleared).toBeNull();
      await again.release();
    });

    it('removes a set by hiding it first, so a removal cut short never looks like a whole set', async () => {
      const store = await makeStore();
      await store.prepare();
      await sealSet(store, A, { 'assets.tar': 'x' });
      await sealSet(store, B, { 'assets.tar': 'y' });
      let hidden = false;
      const deleted = await store.remove(A, {
        afterHide: async () => {
          const listing = await store.list();
          expect(listing.sealed).toEqual([B]);
          expect(listing.deleting).toEqual([A]);
          expect(await store.has(A)).toBe(false);
          hidden = true;
        },
      });
      expect(hidden).toBe(true);
      expect(deleted.id).toBe(A);
      expect(deleted.sizeBytes).toBeGreaterThan(0);
      expect(await store.list()).toEqual({ sealed: [B], partial: [], deleting: [], pinned: [] });

      // Cut short right after hiding (a crash there): hidden, not listed, and finished by the next clean-up.
      const cut = await store.remove(B, { afterHide: () => Promise.reject(new Error('killed here')) }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(cut).toBeInstanceOf(LifeboatError);
      expect(await store.list()).toEqual({ sealed: [], partial: [], deleting: [B], pinned: [] });
      expect(await store.cleanDeletions((id) => id.startsWith('blog_'))).toEqual([]);
      const cleaned = await store.cleanDeletions((id) => id.startsWith('shop_prod_'));
      expect(cleaned).toHaveLength(1);
      expect(cleaned[0]).toContain(B);
      expect(await store.list()).toEqual({ sealed: [], partial: [], deleting: [], pinned: [] });
    });

    it('measures free space as numbers', async () => {
      const store = await makeStore();
      await store.prepare();
      const { space, missing } = await store.space();
      expect(missing).toBe(false);
      expect(typeof space?.freeBytes).toBe('number');
      expect(space!.totalBytes).toBeGreaterThanOrEqual(space!.freeBytes);
      const disk = await store.disk();
      expect(typeof disk.freeBytes).toBe('number');
      expect(disk.freeBytes).toBeGreaterThan(0);
    });
  });
}
