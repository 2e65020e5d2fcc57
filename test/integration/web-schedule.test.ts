import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { useServedHosts } from '../support/web-host.js';
import { jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const temp = useTempDirs();
const serve = useServedHosts();

describe('the web host runs due jobs while it is open', () => {
  it('backs up a scheduled environment that has never been backed up, logged as the web door', async () => {
    const root = temp();
    const home = path.join(root, 'home');
    makeLiveData(root);
    const env = demoEnvironment(root, { schedule: { at: 'hourly', drillAfter: true } } as never);
    expect((await runCli(['env', 'import', writeEnvFile(root, env)], home)).code).toBe(0);
    const host = await serve({ home });
    const sets = () => (existsSync(env.location) ? readdirSync(env.location).filter((n) => n.startsWith('shop_prod_')) : []);
    for (let i = 0; i < 120 && sets().length === 0; i++) await new Promise((r) => setTimeout(r, 250));
    expect(sets(), host.logs()).toHaveLength(1);
    await host.stop();
    const activity = jsonOf<{ action: string; door: string; outcome: string }[]>(await runCli(['activity', '--env', 'prod', '--json'], home));
    expect(activity.filter((a) => a.door === 'web').map((a) => `${a.action} ${a.outcome}`)).toEqual(expect.arrayContaining(['backup success']));
  });
});
