import type { LifeboatBridge } from '../../../shared/bridge.js';
import { createWebBridge } from './web-bridge.js';

/** The app's preload puts the bridge on `window.lifeboat`; in a browser the web host's client is used. */
export function connect(): LifeboatBridge {
  const preloaded = (globalThis as { lifeboat?: LifeboatBridge }).lifeboat;
  return preloaded ?? createWebBridge();
}
