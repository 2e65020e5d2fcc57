import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { api, type MethodName } from '../shared/api.js';
import type { BridgeEvent, Outcome } from '../shared/bridge.js';
import type { Engine } from './engine/engine.js';
import { toErrorShape } from './engine/errors.js';
import { channelOf, EVENT_CHANNEL, frameIsOurs } from './app-channels.js';
import { mayNavigate } from './window-options.js';

/**
 * Binds the contract to the window: one `ipcMain.handle` per method (derived from `api`), each
 * refusing a message from any frame but the window's own main frame, and answering `Outcome`s.
 * Progress of named jobs and the engine's changes go to the window as events. Returns the unbinding.
 */
export function bindApi(engine: Engine, window: BrowserWindow): () => void {
  const send = (event: BridgeEvent) => {
    if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, event);
  };
  const names = Object.keys(api) as MethodName[];
  for (const method of names) {
    ipcMain.handle(channelOf(method), async (event: IpcMainInvokeEvent, args: unknown, options: unknown): Promise<Outcome<unknown>> => {
      if (window.isDestroyed() || event.sender !== window.webContents || !frameIsOurs(event.senderFrame, window.webContents.mainFrame, mayNavigate)) {
        return {
          ok: false,
          error: {
            code: 'FOREIGN_FRAME',
            message: `A call of ${method} from a frame that is not Lifeboat's own page was refused.`,
            hint: "Only Lifeboat's window may call the engine; nothing was done.",
          },
        };
      }
      const job = typeof (options as { job?: unknown } | undefined)?.job === 'string' ? (options as { job: string }).job : undefined;
      try {
        const result = await engine.call(method, args, { job, onProgress: job ? (progress) => send({ type: 'progress', job, progress }) : undefined });
        return { ok: true, result };
      } catch (err) {
        return { ok: false, error: toErrorShape(err) };
      }
    });
  }
  const unsubscribe = engine.onChange((env) => send({ type: 'changed', env }));
  return () => {
    unsubscribe();
    for (const method of names) ipcMain.removeHandler(channelOf(method));
  };
}
