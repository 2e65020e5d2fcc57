import os from 'node:os';
import path from 'node:path';

/**
 * Lifeboat's own data folder: `LIFEBOAT_HOME` when set, otherwise the platform's app-data folder
 * (the same one Electron's `userData` points at), so the CLI and the app share one catalog.
 */
export function lifeboatHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIFEBOAT_HOME) return path.resolve(env.LIFEBOAT_HOME);
  const home = os.homedir();
  switch (process.platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'Lifeboat');
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Lifeboat');
    default:
      return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Lifeboat');
  }
}
