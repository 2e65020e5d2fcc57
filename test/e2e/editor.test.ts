import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { PruneResult } from '../../shared/retention.js';
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

/** shop/prod with a schedule, retention and alerts, and ten real backups copied to the last ten days. */
async function scheduledShop() {
  const root = temp();
  const home = path.join(root, 'home');
  mkdirSync(path.join(root, 'live'), { recursive: true });
  makeAppDb(path.join(root, 'live', 'shop.db'), { rows: 200 });
  makeAssets(path.join(root, 'live', 'assets'));
  const env = demoEnvironment(root, {
    protection: 'normal',
    schedule: { at: 'weekly fri 23:15', timezone: 'Europe/Berlin', drillAfter: false, pruneAfter: true, graceMinutes: 90 },
    retention: { keepLast: 3, monthly: 12, safetyKeepDays: 3 },
    alerts: { minFreePercent: 7.5, sizeFactor: 2, drillMaxAgeDays: 10 },
  });
  // A second environment with no schedule, for the Overview's way to add one.
  mkdirSync(path.join(root, 'sets-notes'));
  const notes = { app: 'notes', name: 'dev', location: path.join(root, 'sets-notes'), sources: [{ kind: 'sqlite', name: 'notes', path: path.join(root, 'live', 'shop.db') }] };
  for (const [i, file] of [env, notes].entries()) expect((await runCli(['env', 'import', writeEnvFile(root, file, `env${i}.json`)], home)).code).toBe(0);
  const full = jsonOf<{ path: string }>(await runCli(['backup', '--env', 'shop/prod', '--json'], home));
  const now = Date.now();
  for (let i = 0; i < 10; i++) copySetAt(full.path, new Date(now - (10 - i) * DAY));
  rmSync(full.path, { recursive: true });
  expect((await runCli(['catalog', 'rebuild'], home)).code).toBe(0);
  return { root, home };
}

const exported = async (home: string, key: string) => jsonOf<Record<string, unknown>>(await runCli(['env', 'export', key], home));
const prunedByEngine = async (home: string) => jsonOf<PruneResult>(await runCli(['prune', '--env', 'shop/prod', '--dry-run', '--json'], home)).decisions.filter((d) => d.action === 'prune').length;

/** Opens the editor of shop/prod from its Settings tab. */
async function openEditor(page: Page, url: string) {
  await page.goto(url);
  await page
    .getByRole('navigation', { name: 'Environments' })
    .getByRole('button', { name: /^shop \/ prod/ })
    .click();
  await page.getByRole('heading', { name: 'shop / prod' }).waitFor();
  await page.getByRole('tab', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Edit this environment…' }).click();
  await page.getByRole('heading', { name: 'Edit shop/prod' }).waitFor();
  await page.getByText('No problems found.').waitFor();
}

describe('the environment editor', () => {
  it('shows the schedule, retention and alerts in words, counts what the rules would prune, and a save keeps every other field', async () => {
    const shop = await scheduledShop();
    const host = await serve({ home: shop.home, args: ['--no-schedule'] });
    const before = await exported(shop.home, 'shop/prod');
    const page = await openPage();
    await openEditor(page, host.url);

    // The schedule as the file says, in controls: a preset button pressed, the day, the time, the zone.
    expect(await page.getByRole('radio', { name: 'On a schedule, by itself' }).isChecked()).toBe(true);
    expect(await page.getByRole('group', { name: 'How often' }).getByRole('button', { name: 'Every week' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByRole('combobox', { name: 'Day of the week' }).inputValue()).toBe('fri');
    expect(await page.getByLabel(/^At/).inputValue()).toBe('23:15');
    expect(await page.getByRole('combobox', { name: /^Time zone/ }).inputValue()).toBe('Europe/Berlin');
    await page.getByText('Backs up every Friday at 23:15, Europe/Berlin.').waitFor();
    expect(await page.getByRole('checkbox', { name: /check it with a drill/ }).isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: /Then prune/ }).isChecked()).toBe(true);
    expect(await page.getByRole('textbox', { name: /^Count a backup as overdue after/ }).inputValue()).toBe('90');
    expect(await page.getByRole('textbox', { name: /^Keep the newest/ }).inputValue()).toBe('3');
    expect(await page.getByRole('textbox', { name: /^Keep one a month/ }).inputValue()).toBe('12');
    expect(await page.getByRole('textbox', { name: /^…or less than/ }).inputValue()).toBe('7.5');

    // The count comes from the engine's own retention decision over the ten backups.
    const saved = await prunedByEngine(shop.home);
    expect(saved).toBeGreaterThan(0);
    await page.getByText(`With these rules, ${saved} of your 10 backups would be pruned`).waitFor();
    await page.getByRole('heading', { name: /^Schedule/ }).scrollIntoViewIfNeeded();
    await shot(page, '40-editor-schedule-retention-alerts-1280');
    // The address works once, so the wide picture is the same page in a larger window.
    await page.setViewportSize({ width: 1920, height: 1080 });
    await shot(page, '41-editor-schedule-retention-alerts-1920');
    await page.setViewportSize({ width: 1280, height: 800 });

    // One field changes: keep only the newest one. The count follows before anything is saved.
    await page.getByRole('textbox', { name: /^Keep the newest/ }).fill('1');
    const shown = async () => Number(/With these rules, (\d+) of your 10 backups/.exec((await page.getByRole('status').filter({ hasText: 'With these rules' }).textContent()) ?? '')?.[1]);
    await expect.poll(shown).toBeGreaterThan(saved);
    const proposed = await shown();
    await page.getByRole('button', { name: 'Save environment' }).click();
    await page.getByRole('heading', { name: 'shop / prod' }).waitFor();

    const after = await exported(shop.home, 'shop/prod');
    expect(after).toEqual({ ...before, retention: { ...(before.retention as object), keepLast: 1 } });
    // What the screen counted before the save is what the engine now decides.
    expect(await prunedByEngine(shop.home)).toBe(proposed);
    await page.getByText('every Friday at 23:15 (Europe/Berlin)').waitFor();
    expect(problemsOf(page)).toEqual([]);
  }, 400_000);

  it("the Overview's “Add a schedule…” opens the editor at the schedule, ready to choose", async () => {
    const shop = await scheduledShop();
    const host = await serve({ home: shop.home, args: ['--no-schedule'] });
    const page = await openPage();
    await page.goto(host.url);
    await page
      .getByRole('navigation', { name: 'Environments' })
      .getByRole('button', { name: /^notes \/ dev/ })
      .click();
    await page.getByRole('heading', { name: 'notes / dev' }).waitFor();
    await page.getByRole('button', { name: 'Add a schedule…' }).click();
    await page.getByRole('heading', { name: 'Edit notes/dev' }).waitFor();
    const off = page.getByRole('radio', { name: 'Only when I press Back up now' });
    await expect.poll(() => off.evaluate((el) => el === document.activeElement)).toBe(true);
    // The section is in view, not below the sources.
    const box = (await page.getByRole('heading', { name: /^Schedule/ }).boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeLessThan(800);

    // From the keyboard: the arrow picks "On a schedule", and the presets appear as buttons.
    await page.keyboard.press('ArrowDown');
    await page.getByRole('group', { name: 'How often' }).getByRole('button', { name: 'Every day' }).waitFor();
    await page.getByText(/^Backs up every day at 02:00, this computer's time/).waitFor();
    await shot(page, '42-editor-add-schedule');
    await page.getByRole('button', { name: 'Save environment' }).click();
    await page.getByRole('heading', { name: 'notes / dev' }).waitFor();
    expect((await exported(shop.home, 'notes/dev')).schedule).toEqual({ at: 'daily 02:00', drillAfter: true, pruneAfter: false, graceMinutes: 60 });
    expect(problemsOf(page)).toEqual([]);
  }, 400_000);

  it('a save that lowers a protected environment asks for the exact name to type, and saves nothing until it matches', async () => {
    const root = temp();
    const home = path.join(root, 'home');
    mkdirSync(path.join(root, 'live'), { recursive: true });
    makeAppDb(path.join(root, 'live', 'shop.db'), { rows: 20 });
    makeAssets(path.join(root, 'live', 'assets'));
    // Another application has a `prod` too, so the name to type is the full shop/prod.
    const envs = [demoEnvironment(root), demoEnvironment(root, { app: 'iir', location: path.join(root, 'iir-sets') })];
    for (const [i, env] of envs.entries()) expect((await runCli(['env', 'import', writeEnvFile(root, env, `env${i}.json`)], home)).code).toBe(0);
    const host = await serve({ home, args: ['--no-schedule'] });
    const page = await openPage();
    await openEditor(page, host.url);

    await page.getByRole('radio', { name: /^Normal/ }).check();
    await page.getByRole('button', { name: 'Save environment' }).click();
    const box = page.getByRole('alertdialog', { name: 'Save changes that weaken the protection of shop/prod?' });
    await box.getByText('changes its protection from protected to normal').waitFor();
    const typed = box.getByRole('textbox', { name: 'Type shop/prod to confirm' });
    const go = box.getByRole('button', { name: 'Save with these changes' });
    await typed.fill('prod');
    expect(await go.isDisabled()).toBe(true);
    expect((await exported(home, 'shop/prod')).protection).toBe('protected');
    await typed.fill('shop/prod');
    await shot(page, '43-editor-confirm-weakening');
    await go.click();
    await page.getByRole('heading', { name: 'shop / prod' }).waitFor();
    expect((await exported(home, 'shop/prod')).protection).toBe('normal');
    expect(problemsOf(page)).toEqual([]);
  }, 400_000);
});
