import type { MethodName } from '../shared/api.js';

/**
 * The IPC channels between the preload and the main process: one per contract method, and one for
 * pushed events. Shared by both sides so a name can only be spelled one way.
 */
export const EVENT_CHANNEL = 'lifeboat:event';

export function channelOf(method: MethodName): string {
  return `lifeboat:call:${method}`;
}

/** What the main process knows of the frame an IPC message came from. */
export interface FrameLike {
  url: string;
}

/**
 * A message is ours only when it comes from the window's main frame (not an iframe, not another
 * window) while that frame shows one of Lifeboat's own pages.
 */
export function frameIsOurs(sender: FrameLike | null | undefined, mainFrame: FrameLike, isOwnPage: (url: string) => boolean): boolean {
  return !!sender && sender === mainFrame && isOwnPage(sender.url);
}
