import { spawn } from 'node:child_process';

/** The platform's file manager opener, when this machine has a desktop to open it on. */
function opener(): { cmd: string; args: (p: string) => string[] } | null {
  if (process.platform === 'darwin') return { cmd: 'open', args: (p) => [p] };
  if (process.platform === 'win32') return { cmd: 'explorer', args: (p) => [p] };
  if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) return { cmd: 'xdg-open', args: (p) => [p] };
  return null;
}

/**
 * Opens a folder in the file manager of the machine Lifeboat runs on (the app and the web host are
 * both on the operator's own machine). Says plainly when there is no desktop to open it on.
 */
export function revealFolder(dir: string): Promise<{ path: string; opened: boolean; how: string }> {
  const how = opener();
  if (!how) return Promise.resolve({ path: dir, opened: false, how: 'This machine has no desktop session to open a file manager in; the folder is shown instead.' });
  return new Promise((resolve) => {
    const child = spawn(how.cmd, how.args(dir), { detached: true, stdio: 'ignore' });
    child.once('error', (err) => resolve({ path: dir, opened: false, how: `${how.cmd} could not be started (${err.message}); the folder is shown instead.` }));
    child.once('spawn', () => {
      child.unref();
      resolve({ path: dir, opened: true, how: `Opened with ${how.cmd}.` });
    });
  });
}
