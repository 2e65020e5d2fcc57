import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../shared/api.js';
import { ROOT } from '../support/tools.js';

/** The bundled preload, run as Electron runs a sandboxed preload: CommonJS, with only `electron` to require. */
function loadPreload() {
  const exposed: { key: string; value: unknown }[] = [];
  const invoked: { channel: string; args: unknown[] }[] = [];
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const required: string[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.push({ key, value }) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        invoked.push({ channel, args });
        return { ok: true, result: { channel } };
      },
      on: (channel: string, fn: (...a: unknown[]) => void) => void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(fn),
      removeListener: (channel: string, fn: (...a: unknown[]) => void) => void listeners.get(channel)?.delete(fn),
    },
  };
  const module = { exports: {} };
  const sandbox = {
    module,
    exports: module.exports,
    require: (name: string) => {
      required.push(name);
      if (name === 'electron') return electron;
      throw new Error(`a sandboxed preload cannot require ${name}`);
    },
    console,
  };
  const code = readFileSync(path.join(ROOT, 'out', 'preload.cjs'), 'utf8');
  vm.runInNewContext(code, sandbox, { filename: 'preload.cjs' });
  return { exposed, invoked, listeners, required };
}

describe('the preload (out/preload.cjs, as built by npm run build:app)', () => {
  // Built from the current sources with the package's own script, so the test never reads a stale bundle.
  beforeAll(() => {
    execFileSync('npm', ['run', '--silent', 'build:app'], { cwd: ROOT, stdio: 'pipe' });
  });

  it('requires only electron and exposes one object, window.lifeboat', () => {
    const { exposed, required } = loadPreload();
    expect([...new Set(required)]).toEqual(['electron']);
    expect(exposed.map((e) => e.key)).toEqual(['lifeboat']);
  });

  it("exposes exactly the contract's method names and nothing else: no invoke, no ipcRenderer", () => {
    const bridge = loadPreload().exposed[0]!.value as Record<string, unknown>;
    expect(Object.keys(bridge).sort()).toEqual(['door', 'methods', 'onEvent']);
    expect(bridge.door).toBe('app');
    expect(typeof bridge.onEvent).toBe('function');
    const methods = bridge.methods as Record<string, unknown>;
    expect(Object.keys(methods)).toEqual(Object.keys(api));
    expect(Object.values(methods).every((f) => typeof f === 'function')).toBe(true);
    for (const forbidden of ['invoke', 'send', 'ipcRenderer', 'on', 'call']) {
      expect(forbidden in methods).toBe(false);
      expect(forbidden in bridge).toBe(false);
    }
  });

  it('forwards each method to its own channel with its arguments and job, and nothing else', async () => {
    const { exposed, invoked } = loadPreload();
    const methods = (exposed[0]!.value as { methods: Record<string, (args: unknown, options?: unknown) => Promise<unknown>> }).methods;
    for (const name of Object.keys(api)) {
      const answer = await methods[name]!({ probe: name }, { job: `job-${name}`, extra: 'dropped' });
      expect(answer).toEqual({ ok: true, result: { channel: `lifeboat:call:${name}` } });
    }
    expect(invoked).toEqual(Object.keys(api).map((name) => ({ channel: `lifeboat:call:${name}`, args: [{ probe: name }, { job: `job-${name}` }] })));
  });

  it('answers a failed IPC call with the error shape instead of throwing', async () => {
    const answer = await (loadBroken().methods['env.list'] as (a: unknown) => Promise<{ ok: boolean; error?: { code: string; hint: string } }>)({});
    expect(answer.ok).toBe(false);
    expect(answer.error!.code).toBe('UNREACHABLE');
    expect(answer.error!.hint).toContain('Restart Lifeboat');
  });

  it('passes pushed events to the page without the IPC event, and unsubscribes', () => {
    const { exposed, listeners } = loadPreload();
    const bridge = exposed[0]!.value as { onEvent(l: (e: unknown) => void): () => void };
    const got: unknown[][] = [];
    const off = bridge.onEvent((...a) => got.push(a));
    const relay = [...listeners.get('lifeboat:event')!][0]!;
    relay({ sender: 'the IpcRendererEvent must not reach the page' }, { type: 'changed', env: 'shop/prod' });
    expect(got).toEqual([[{ type: 'changed', env: 'shop/prod' }]]);
    off();
    expect(listeners.get('lifeboat:event')!.size).toBe(0);
  });
});

/** The preload over an ipcRenderer whose invoke rejects. */
function loadBroken(): { methods: Record<string, unknown> } {
  let bridge: { methods: Record<string, unknown> } | undefined;
  const electron = {
    contextBridge: { exposeInMainWorld: (_k: string, v: unknown) => void (bridge = v as typeof bridge) },
    ipcRenderer: { invoke: async () => Promise.reject(new Error("No handler registered for 'lifeboat:call:env.list'")), on() {}, removeListener() {} },
  };
  const module = { exports: {} };
  vm.runInNewContext(readFileSync(path.join(ROOT, 'out', 'preload.cjs'), 'utf8'), { module, exports: module.exports, require: () => electron });
  return bridge!;
}
