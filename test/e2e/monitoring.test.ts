import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAppDb, makeAssets } from '../support/data.js';
import { problemsOf, shot, useBrowser } from '../support/browser.js';
import { demoEnvironment } from '../support/engine.js';
import { copySetAt } from '../support/history.js';
import { useServedHosts } from '../support/web-host.js';
import { jsonOf, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const serve = useServedHosts();
// After the hosts: hooks after a test run last-registered first, so a failed test's picture is taken while its host still answers.
const openPage = useBrowser();
const temp = useTempDirs();

const DAY = 86_400_000;

/**
 * shop/prod on a daily schedule whose newest backup is two days old and much smaller than the
 * ten before it: a history made from real backups copied to earlier times.
 */
async function troubledShop() {
  const root = temp();
  const home = path.join(root, 'home');
  mkdirSync(path.join(root, 'live'), { recursive: true });
  makeAppDb(path.join(root, 'live', 'shop.db'), { rows: 2000 });
  const assets = path.join(root, 'live', 'assets');
  makeAssets(assets);
  const env = demoEnvironment(root, { protection: 'normal', schedule: { at: 'daily 02:00' }, retention: { keepLast: 3 } } as never);
  expect((await runCli(['env', 'import', writeEnvFile(root, env)], home)).code).toBe(0);
  const full = jsonOf<{ path: string }>(await runCli(['backup', '--env', 'prod', '--json'], home));
  const now = Date.now();
  for (let i = 0; i < 10; i++) copySetAt(full.path, new Date(now - (12 - i) * DAY), { durationMs: 1500 + (i % 3) * 100 });
  rmSync(full.path, { recursive: true });
  // The assets folder loses most of its files; the next backup is much smaller.
  for (const name of readdirSync(assets).slice(1)) rmSync(path.join(assets, name), { recursive: true });
  const small = jsonOf<{ path: string; id: string }>(await runCli(['backup', '--env', 'prod', '--json'], home));
  const newest = copySetAt(small.path, new Date(now - 2 * DAY), { durationMs: 1400 });
  rmSync(small.path, { recursive: true });
  expect((await runCli(['catalog', 'rebuild'], home)).code).toBe(0);
  return { root, home, location: env.location, newest };
}

describe('monitoring and retention on the screen', () => {
  it('the overview shows an overdue environment and a size anomaly with what to do', async () => {
    const shop = await troubledShop();
    // The host must not run the due backup itself here: the screen is to show it overdue.
    const host = await serve({ home: shop.home, args: ['--no-schedule'] });
    const page = await openPage();
    await page.goto(host.url);
    const alerts = page.getByRole('region', { name: 'Needs attention' });
    await alerts.waitFor();
    const text = (await alerts.textContent())!;
    expect(text).toMatch(/Backup overdue/);
    expect(text).toMatch(new RegExp(`The newest set ${shop.newest.id} is \\d+% smaller than the median of the last 10`));
    expect(text).toMatch(/What to do: Back up now/);
    // The banner and the sidebar say it too, in words as well as colour.
    await page.getByRole('alert').filter({ hasText: '1 environment needs attention' }).waitFor();
    await page.getByRole('button', { name: /shop \/ prod, backup overdue \(\+1\)/ }).waitFor();
    // The size chart marks the anomaly and explains it.
    const sizeChart = page.getByRole('figure').filter({ hasText: 'Size of each backup' });
    await sizeChart.getByText(new RegExp(`${shop.newest.id}: \\d+% smaller than the median of the last 10`)).waitFor();
    await shot(page, '26-overview-overdue-anomaly');
    const dark = await openPage({ dark: true, width: 1920, height: 1080 });
    await dark.goto(host.origin);
    expect(problemsOf(page)).toEqual([]);
  });

  it('pins a set, then applies retention after a confirmation: the pinned set stays', async () => {
    const shop = await troubledShop();
    // The host must not run the due backup itself here: the screen is to show it overdue.
    const host = await serve({ home: shop.home, args: ['--no-schedule'] });
    const page = await openPage({ width: 1920, height: 1080 });
    await page.goto(host.url);
    await page.getByRole('tab', { name: 'History' }).click();
    const oldest = readdirSync(shop.location)
      .filter((n) => n.startsWith('shop_prod_'))
      .sort()[0]!;
    await page.getByRole('button', { name: `Pin ${oldest}` }).click();
    await page.getByRole('button', { name: `Unpin ${oldest}` }).waitFor();
    expect(await page.getByRole('button', { name: `Delete ${oldest}` }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Apply retention…' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByText(/Delete 7 backups the retention policy no longer keeps/).waitFor();
    await dialog.getByRole('row', { name: new RegExp(`^${oldest} Keep .*pinned`, 'i') }).waitFor();
    // The plan's bytes are the History list's, and the real prune then reports the same total.
    const [, planned] = /A prune would delete 7 of 11 sets \(([^)]+)\)/.exec((await dialog.textContent())!)!;
    const someGone = readdirSync(shop.location)
      .filter((n) => n.startsWith('shop_prod_'))
      .sort()[1]!;
    const planRow = (await dialog.getByRole('row', { name: new RegExp(`^${someGone} Delete`) }).textContent())!;
    const listRow = (await page.getByRole('row').filter({ hasText: someGone }).filter({ hasText: 'Check' }).textContent())!;
    const size = /\d[\d.]* (?:KB|MB|GB|bytes)/;
    expect(planRow.match(size)?.[0]).toBe(listRow.match(size)?.[0]);
    await shot(page, '27-prune-confirm');
    // Nothing was deleted by looking.
    expect(readdirSync(shop.location).filter((n) => n.startsWith('shop_prod_'))).toHaveLength(11);
    await dialog.getByRole('button', { name: 'Delete 7 backups' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Deleted 7 of 11 sets (${planned}); kept 4.` })
      .waitFor();
    const left = readdirSync(shop.location).filter((n) => n.startsWith('shop_prod_'));
    expect(left).toHaveLength(4);
    expect(left).toContain(oldest);
    await shot(page, '28-after-prune');
    expect(problemsOf(page)).toEqual([]);
  });
});
