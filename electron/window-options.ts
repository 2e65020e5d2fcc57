import type { BrowserWindowConstructorOptions } from 'electron';

/**
 * The desktop window's security settings and navigation policy, kept apart from `main.ts` so that
 * a unit test can read them without Electron: the renderer is a web page with no Node, isolated
 * from the preload, sandboxed, and served from Lifeboat's own scheme with a strict CSP.
 */

/** The privileged scheme the renderer is served from (not file://, so the CSP header applies). */
export const APP_SCHEME = 'lifeboat';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    title: 'Lifeboat',
    show: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      experimentalFeatures: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

/** Whether the window may load a URL: only Lifeboat's own pages; everything else is refused. */
export function mayNavigate(url: string): boolean {
  try {
    // Compared by scheme and host: Node gives a custom scheme's URL an opaque origin, Chromium does not.
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === 'app' && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}
