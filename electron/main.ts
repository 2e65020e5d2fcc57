import { app, BrowserWindow, dialog, session, type WebContents } from 'electron';
import path from 'node:path';
import { Engine } from './engine/engine.js';
import { toErrorShape } from './engine/errors.js';
import { lifeboatHome } from './engine/home.js';
import { bindApi } from './app-ipc.js';
import { registerAppScheme, serveRenderer } from './app-protocol.js';
import { APP_URL, mayNavigate, windowOptions } from './window-options.js';

/**
 * The desktop door: one window on the renderer, the contract bound over IPC, and nothing else.
 * Bundled to `out/main.cjs`; the preload and the built renderer sit beside it in `out/`.
 */
registerAppScheme();
app.enableSandbox();

/** Every web contents (the window, and anything it might try to open) stays on Lifeboat's pages. */
function harden(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!mayNavigate(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!mayNavigate(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

async function start(): Promise<void> {
  let engine: Engine;
  try {
    engine = new Engine(lifeboatHome(), 'app');
  } catch (err) {
    const shape = toErrorShape(err);
    dialog.showErrorBox('Lifeboat cannot open its catalog', `${shape.message}\n\n${shape.hint}`);
    app.exit(1);
    return;
  }
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, answer) => answer(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  serveRenderer(path.join(__dirname, 'renderer'));

  const window = new BrowserWindow(windowOptions(path.join(__dirname, 'preload.cjs')));
  const unbind = bindApi(engine, window);
  // The engine's scheduler, once it exists, starts here beside the engine (and stops on quit).
  window.once('ready-to-show', () => window.show());
  app.on('window-all-closed', () => app.quit());
  app.once('will-quit', () => {
    unbind();
    engine.close();
  });
  await window.loadURL(APP_URL);
}

if (!app.requestSingleInstanceLock()) app.quit();
else {
  app.on('web-contents-created', (_event, contents) => harden(contents));
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.whenReady().then(start, (err: unknown) => {
    dialog.showErrorBox('Lifeboat could not start', String(err));
    app.exit(1);
  });
}
