import { app, BrowserWindow, dialog, Notification, session, type WebContents } from 'electron';
import path from 'node:path';
import { Engine } from './engine/engine.js';
import { toErrorShape } from './engine/errors.js';
import { lifeboatHome } from './engine/home.js';
import { bindApi } from './app-ipc.js';
import { registerAppScheme, serveRenderer } from './app-protocol.js';
import { APP_URL, mayNavigate, windowOptions } from './window-options.js';
import { Scheduler } from './engine/scheduler.js';
import { AlertNotifier, type Notice } from './app-notify.js';

/** The system timer starts the app with this flag: it runs what is due, without a window, and quits. */
const RUN_DUE = '--run-due';

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
  // The system timer calls this same app with --run-due (the packaged app has no separate Node).
  engine.runDueCommand = [process.execPath, ...(app.isPackaged ? [] : [app.getAppPath()]), RUN_DUE];
  // Due jobs run while the app is open; what goes wrong, and each new alert, becomes a notification.
  const notifier = new AlertNotifier();
  const notify = (notices: Notice[]) => {
    if (!Notification.isSupported()) return;
    for (const n of notices) new Notification({ title: n.title, body: n.body }).show();
  };
  const lookAtHealth = () =>
    engine.call('status.get', {}).then(
      (status) => notify(notifier.alerts(status)),
      () => undefined,
    );
  const scheduler = new Scheduler(engine, {
    onRun: (result) => {
      notify(notifier.runs(result));
      void lookAtHealth();
    },
    onError: (error) => notify([{ title: 'Lifeboat could not run its schedule', body: `${error.message} ${error.hint}` }]),
  });
  const health = setInterval(() => void lookAtHealth(), 15 * 60_000);
  window.once('ready-to-show', () => {
    window.show();
    scheduler.start();
    void lookAtHealth();
  });
  app.on('window-all-closed', () => app.quit());
  app.once('will-quit', () => {
    clearInterval(health);
    void scheduler.stop();
    unbind();
    engine.close();
  });
  await window.loadURL(APP_URL);
}

/** Started by the system timer: runs what is due through the engine, logs it, and quits. */
async function runDueAndQuit(): Promise<void> {
  const engine = new Engine(lifeboatHome(), 'app');
  try {
    const result = await engine.call('schedule.runDue', {});
    const failed = result.ran.some((r) => r.steps.some((s) => s.outcome === 'failed'));
    app.exit(failed ? 1 : 0);
  } catch (err) {
    const shape = toErrorShape(err);
    process.stderr.write(`lifeboat: ${shape.message}\n${shape.hint}\n`);
    app.exit(shape.code === 'LOCKED' ? 0 : 1);
  } finally {
    engine.close();
  }
}

if (process.argv.includes(RUN_DUE)) {
  app.whenReady().then(runDueAndQuit, () => app.exit(1));
} else if (!app.requestSingleInstanceLock()) app.quit();
else {
  app.on('web-contents-created', (_event, contents) => harden(contents));
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.whenReady().then(start, (err: unknown) => {
    dialog.showErrorBox('Lifeboat could not start', String(err));
    app.exit(1);
  });
}
