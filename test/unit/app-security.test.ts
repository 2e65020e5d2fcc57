import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameIsOurs } from '../../electron/app-channels.js';
import { rendererResponse } from '../../electron/web-static.js';
import { APP_ORIGIN, APP_URL, mayNavigate, windowOptions } from '../../electron/window-options.js';

describe("the desktop window's security settings", () => {
  it('isolates and sandboxes the renderer, with no Node anywhere and the preload given', () => {
    const o = windowOptions('/app/out/preload.cjs');
    expect(o.webPreferences).toMatchObject({
      preload: '/app/out/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(o.width).toBeGreaterThanOrEqual(1280);
  });

  it("navigates only within Lifeboat's own origin", () => {
    expect(APP_URL.startsWith(`${APP_ORIGIN}/`)).toBe(true);
    expect(mayNavigate(APP_URL)).toBe(true);
    expect(mayNavigate(`${APP_ORIGIN}/index.html#/env/shop/prod`)).toBe(true);
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'lifeboat://other/index.html', 'http://127.0.0.1:8080/', 'javascript:alert(1)', 'lifeboat://user@app/index.html', 'not a url']) {
      expect([url, mayNavigate(url)]).toEqual([url, false]);
    }
  });

  it("takes IPC only from the window's main frame while it shows Lifeboat's page", () => {
    const main = { url: APP_URL };
    expect(frameIsOurs(main, main, mayNavigate)).toBe(true);
    expect(frameIsOurs({ url: APP_URL }, main, mayNavigate)).toBe(false); // an iframe with the same URL is another frame
    expect(frameIsOurs(null, main, mayNavigate)).toBe(false); // the frame is gone
    const navigatedAway = { url: 'https://evil.example/' };
    expect(frameIsOurs(navigatedAway, navigatedAway, mayNavigate)).toBe(false);
  });

  it('serves the renderer on its scheme with the CSP header, and refuses paths out of it', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-renderer-'));
    try {
      mkdirSync(path.join(root, 'renderer', 'assets'), { recursive: true });
      writeFileSync(path.join(root, 'renderer', 'assets', 'app.js'), 'export {};');
      writeFileSync(path.join(root, 'outside.txt'), 'TOP SECRET');
      const notBuilt = await rendererResponse(path.join(root, 'renderer'), '/index.html');
      expect(notBuilt.status).toBe(200);
      expect(await notBuilt.text()).toContain('npm run build');
      const js = await rendererResponse(path.join(root, 'renderer'), '/assets/app.js');
      expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(js.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(js.headers.get('x-content-type-options')).toBe('nosniff');
      for (const p of ['/../outside.txt', '/%2e%2e/outside.txt', '/assets/../../outside.txt']) {
        const r = await rendererResponse(path.join(root, 'renderer'), p);
        expect([p, r.status >= 400]).toEqual([p, true]);
        expect(await r.text()).not.toContain('TOP SECRET');
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
