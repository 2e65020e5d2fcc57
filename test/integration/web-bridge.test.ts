import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { api } from '../../shared/api.js';
import { BridgeEvent } from '../../shared/events.js';
import { createWebBridge, type WebBridgePage } from '../../renderer/src/lib/web-bridge.js';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { useTempDirs } from '../support/tools.js';
import { useServedHosts, type ServedHost } from '../support/web-host.js';
import { checkResultsAgainstContract } from '../support/contract-check.js';

const temp = useTempDirs();
const serve = useServedHosts();

/** A stand-in browser page at the printed address: its address bar, history and sessionStorage. */
function pageAt(host: ServedHost, hash: string, storage = new Map<string, string>()) {
  const replaced: string[] = [];
  const page: WebBridgePage = {
    location: { origin: host.origin, pathname: '/', search: '', hash },
    history: { replaceState: (_d, _u, url) => void replaced.push(String(url)) },
    storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v), removeItem: (k) => void storage.delete(k) },
    fetch: globalThis.fetch,
  };
  return { page, replaced, storage };
}

checkResultsAgainstContract();

describe('the web bridge against a real `lifeboat serve`', () => {
  it('has one function per contract method, exchanges the token once and keeps the session across a reload', async () => {
    const host = await serve();
    const first = pageAt(host, `#token=${host.token}`);
    const bridge = createWebBridge(first.page);
    expect(bridge.door).toBe('web');
    expect(Object.keys(bridge.methods).sort()).toEqual(Object.keys(api).sort());
    // The token left the address bar at once.
    expect(first.replaced).toEqual(['/']);
    const listed = await bridge.methods['env.list']({});
    expect(listed).toEqual({ ok: true, result: [] });
    expect(first.storage.get('lifeboat.session')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(first.storage.get('lifeboat.session')).not.toBe(host.token);

    // A reload: no token in the address, the secret from sessionStorage.
    const reloaded = createWebBridge(pageAt(host, '', first.storage).page);
    expect((await reloaded.methods['activity.list']({})).ok).toBe(true);

    // Another tab with the used address gets no session, and is told that the address was used.
    const again = createWebBridge(pageAt(host, `#token=${host.token}`).page);
    const refused = await again.methods['env.list']({});
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe('TOKEN_USED');
      expect(refused.error.message).toContain('already used');
      expect(refused.error.hint).toContain('lifeboat serve');
    }
    // A wrong token is still a wrong token.
    const wrong = await createWebBridge(pageAt(host, `#token=${host.token.slice(0, -2)}AA`).page).methods['env.list']({});
    expect(wrong.ok || wrong.error.code).toBe('NO_SESSION');
    // No token and no stored secret: the same answer, without asking the host.
    const bare = await createWebBridge(pageAt(host, '').page).methods['env.list']({});
    expect(bare.ok || bare.error.code).toBe('NO_SESSION');
  });

  it('backs up with a job: progress events arrive on the stream, then the result; a stopped host is named in the hint', async () => {
    const root = temp();
    makeLiveData(root, { rows: 5000 });
    const host = await serve();
    const bridge = createWebBridge(pageAt(host, `#token=${host.token}`).page);
    const events: BridgeEvent[] = [];
    const off = bridge.onEvent((e) => events.push(e));

    const saved = await bridge.methods['env.save']({ environment: demoEnvironment(root) });
    expect(saved.ok).toBe(true);
    const run = await bridge.methods['backup.run']({ env: 'prod' }, { job: 'backup-1' });
    if (!run.ok) throw new Error(`${run.error.message} ${run.error.hint}\n${host.logs()}`);
    expect(readdirSync(path.join(root, 'sets'))).toContain(run.result.id);
    // The save and the backup each tell the page; the backup names its environment.
    await expect.poll(() => events.some((e) => e.type === 'changed' && e.env === 'shop/prod')).toBe(true);
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((e) => e.type === 'progress' && e.job === 'backup-1' && e.progress.operation === 'backup')).toBe(true);
    // A drill and a restore test push theirs too; every event on the stream is one the contract declares.
    expect((await bridge.methods['drill.run']({ env: 'prod', set: run.result.id }, { job: 'drill-1' })).ok).toBe(true);
    const restored = await bridge.methods['restore.run']({ env: 'prod', set: run.result.id, to: path.join(root, 'restored') }, { job: 'restore-1' });
    if (!restored.ok) throw new Error(`${restored.error.message} ${restored.error.hint}`);
    await expect.poll(() => new Set(events.flatMap((e) => (e.type === 'progress' ? [e.progress.operation] : [])))).toEqual(new Set(['backup', 'drill', 'restore']));
    for (const e of events) expect(BridgeEvent.safeParse(e).error?.issues ?? []).toEqual([]);
    off();

    await host.stop();
    const gone = await bridge.methods['env.list']({});
    expect(gone.ok).toBe(false);
    if (!gone.ok) {
      expect(gone.error.code).toBe('UNREACHABLE');
      expect(gone.error.hint).toContain('Is `lifeboat serve` still running?');
    }
  });
});
