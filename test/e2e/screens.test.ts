import { linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sealManifest } from '../../electron/engine/manifest.js';
import { stamp } from '../../electron/engine/set-id.js';
import type { Manifest } from '../../shared/manifest.js';
import { makeLiveData } from '../support/data.js';
import { problemsOf, shot, useBrowser } from '../support/browser.js';
import { demoEnvironment } from '../support/engine.js';
import { useServedHosts } from '../support/web-host.js';
import { jsonOf, requireBinary, runCli, useTempDirs, writeEnvFile } from '../support/tools.js';

const serve = useServedHosts();
// After the hosts: hooks after a test run last-registered first, so a failed test's picture is taken while its host still answers.
const openPage = useBrowser();
const temp = useTempDirs();

async function shopWith(opts: { bigFolderMb?: number; protection?: 'normal' | 'protected' } = {}) {
  const root = temp();
  const home = path.join(root, 'home');
  makeLiveData(root, { rows: 300 });
  if (opts.bigFolderMb) {
    requireBinary('head', 'coreutils');
    for (let i = 0; i < 8; i++) execFileSync('sh', ['-c', `head -c ${Math.round((opts.bigFolderMb * 1e6) / 8)} /dev/urandom > "${path.join(root, 'live', 'assets', `video-${i}.bin`)}"`]);
  }
  const env = demoEnvironment(root, { protection: opts.protection ?? 'normal' });
  expect((await runCli(['env', 'import', writeEnvFile(root, env)], home)).code).toBe(0);
  return { root, home, location: env.location };
}

describe('the screens an operator works in', () => {
  it('a running backup shows bytes, files, rate and time left, and Cancel leaves no set', async () => {
    const shop = await shopWith({ bigFolderMb: 240 });
    const host = await serve({ home: shop.home });
    const page = await openPage();
    await page.goto(host.url);
    await page.getByRole('button', { name: 'Back up now' }).click();
    const bar = page.getByRole('progressbar', { name: /^Backing up: \d+%$/ });
    await bar.waitFor();
    await page.getByText(/ of \d[\d,]* files$/).waitFor();
    await page.getByText(/^about .* left$/).waitFor();
    await page.getByText(/\/s$/).first().waitFor();
    await shot(page, '16-backup-progress');
    // The header says a backup runs, even from another tab.
    await page.getByRole('button', { name: 'Hide (keeps running)' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Backing up/ })
      .waitFor();
    await page.getByRole('button', { name: 'Show the running backup' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'Backup cancelled' }).waitFor();
    await page.getByText('Your live data was not changed.').waitFor();
    await shot(page, '17-backup-cancelled');
    expect(readdirSync(shop.location).filter((n) => !n.startsWith('.lifeboat-'))).toEqual([]);
    expect(problemsOf(page)).toEqual([]);
  });

  it('a history of 5,000 sets scrolls to the oldest; the screens read in dark and at 1920×1080', async () => {
    const shop = await shopWith();
    const first = await runCli(['backup', '--env', 'prod', '--json'], shop.home);
    expect(first.code, first.stderr).toBe(0);
    const model = jsonOf<{ id: string; path: string }>(first);
    const manifest = JSON.parse(readFileSync(path.join(model.path, 'manifest.json'), 'utf8')) as Manifest;
    // 4,999 more sets, one an hour back in time: the same artifacts (hard links), each with its own sealed manifest.
    const files = readdirSync(model.path).filter((n) => n !== 'manifest.json');
    const start = Date.parse(manifest.startedAt);
    let oldest = '';
    for (let i = 1; i < 5000; i++) {
      const at = new Date(start - i * 3600_000);
      const id = `shop_prod_${stamp(at)}`;
      const dir = path.join(shop.location, id);
      mkdirSync(dir, { mode: 0o700 });
      for (const f of files) linkSync(path.join(model.path, f), path.join(dir, f));
      const { integrity: _drop, ...body } = manifest;
      const sealed = sealManifest({ ...body, id, startedAt: at.toISOString(), finishedAt: new Date(at.getTime() + 1500 + (i % 7) * 400).toISOString() });
      writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(sealed, null, 2));
      oldest = id;
    }
    const host = await serve({ home: shop.home });
    const page = await openPage({ width: 1920, height: 1080 });
    await page.goto(host.url);
    // The first look reads 5,000 manifests into the catalog: on a loaded machine that is minutes, not a hang.
    await page.getByRole('tab', { name: 'History' }).click({ timeout: 180_000 });
    const table = page.getByRole('table', { name: 'Backups of shop / prod' });
    await table.getByText(model.id).waitFor();
    // Virtualised: a few dozen rows are in the page, not 5,000.
    const rendered = await table.getByRole('row').count();
    expect(rendered).toBeLessThan(100);
    await shot(page, '18-history-5000-1920');
    await table.getByText(model.id).hover();
    for (let i = 0; i < 40 && !(await table.getByText(oldest).isVisible()); i++) await page.mouse.wheel(0, 12_000);
    await table.getByText(oldest).waitFor();
    await shot(page, '19-history-5000-scrolled');

    const dark = await openPage({ dark: true });
    await dark.goto(`${host.origin}/`);
    // A second tab has no token: it says how to get in instead of failing silently.
    await dark.getByRole('heading', { name: 'This page is not connected to Lifeboat' }).waitFor();
    await shot(dark, '20-no-session');
    expect(problemsOf(page)).toEqual([]);
  });

  it('the overview, settings and all-activity screens in dark mode', async () => {
    const shop = await shopWith({ protection: 'protected' });
    expect((await runCli(['backup', '--env', 'prod'], shop.home)).code).toBe(0);
    expect((await runCli(['drill', '--env', 'prod'], shop.home)).code).toBe(0);
    const host = await serve({ home: shop.home });
    const page = await openPage({ dark: true });
    await page.goto(host.url);
    await page.getByRole('heading', { name: 'shop / prod' }).waitFor();
    await page.getByText('Passed').first().waitFor();
    await shot(page, '21-overview-dark');
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Export the environment file' }).waitFor();
    await shot(page, '22-settings-dark');
    await page.getByRole('button', { name: 'All activity' }).click();
    await page.getByRole('cell', { name: 'command line' }).first().waitFor();
    await shot(page, '23-all-activity-dark');
    // Keyboard: the tabs move with the arrow keys.
    await page.getByRole('button', { name: /^shop \/ prod/ }).click();
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'History' }).getAttribute('aria-selected')).toBe('true');
    expect(problemsOf(page)).toEqual([]);
  });
});
