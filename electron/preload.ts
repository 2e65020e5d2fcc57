import { contextBridge, ipcRenderer } from 'electron';
import type { BridgeEvent, LifeboatBridge, LifeboatMethods, Outcome } from '../shared/bridge.js';
import { contractMethods } from '../shared/bridge-methods.js';
import { channelOf, EVENT_CHANNEL } from './app-channels.js';

/**
 * The desktop app's bridge: `window.lifeboat` with exactly the contract's methods, each on its own
 * channel, and the event subscription. No generic invoke and no ipcRenderer reach the page.
 * Bundled as CommonJS (a sandboxed preload can require only `electron`).
 */
const methods = contractMethods(async (method, args, options): Promise<Outcome<unknown>> => {
  try {
    return (await ipcRenderer.invoke(channelOf(method), args, options)) as Outcome<unknown>;
  } catch (err) {
    return {
      ok: false,
      error: {
        code: 'UNREACHABLE',
        message: `Lifeboat's main process did not answer ${method}: ${err instanceof Error ? err.message : String(err)}.`,
        hint: 'Restart Lifeboat; if it repeats, run `lifeboat` from a terminal to see the error.',
      },
    };
  }
}) satisfies LifeboatMethods;

const bridge = {
  door: 'app',
  methods,
  onEvent(listener: (event: BridgeEvent) => void): () => void {
    // The page gets the event only, never Electron's IpcRendererEvent (which carries the sender).
    const relay = (_event: unknown, payload: BridgeEvent) => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL, relay);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL, relay);
  },
} satisfies LifeboatBridge;

contextBridge.exposeInMainWorld('lifeboat', bridge);
