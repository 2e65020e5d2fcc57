import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useTempDirs } from '../support/tools.js';
import { useServedHosts } from '../support/web-host.js';

const temp = useTempDirs();
const serve = useServedHosts();

describe('lifeboat serve', () => {
  it('prints one address line and how to stop, and stops cleanly on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const home = temp();
      const host = await serve({ home });
      const stdout = host
        .logs()
        .split('\n')
        .filter((l) => l.includes('http://'));
      expect(stdout).toEqual([`Lifeboat web host: ${host.url}`]);
      expect(host.logs()).toContain('press Ctrl-C to stop');
      expect(host.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const page = await fetch(`${host.origin}/`);
      expect(page.status).toBe(200);
      // Stop it the way a terminal or a service manager would.
      process.kill(host.pid, signal);
      expect(await host.exited).toBe(0);
      expect(host.logs()).toContain('Stopping the web host');
      await expect(fetch(`${host.origin}/`)).rejects.toThrow();
    }
  });

  it('refuses a port that is not a number or is taken, with a hint and exit code 2', async () => {
    const home = temp();
    const bad = await runCli(['serve', '--port', 'eighty'], home);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Hint:');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const taken = await runCli(['serve', '--port', String(port)], path.join(home, 'h2'));
    blocker.close();
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(`Port ${port} is already in use`);
  });
});
