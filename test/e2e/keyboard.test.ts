import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { problemsOf, shot, useBrowser } from '../support/browser.js';
import { useServedHosts } from '../support/web-host.js';
import { sqlite3, useTempDirs } from '../support/tools.js';

const serve = useServedHosts();
// After the hosts: hooks after a test run last-registered first, so a failed test's picture is taken while its host still answers.
const openPage = useBrowser();
const temp = useTempDirs();

/** Presses Tab until the focused control's text or label matches, as a keyboard user would. */
async function tabTo(page: Page, name: RegExp): Promise<void> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return '';
      const labels = [...((el as HTMLInputElement).labels ?? [])].map((l) => l.textContent ?? '').join(' ');
      return (el.getAttribute('aria-label') || labels || (el.tagName === 'INPUT' ? '' : (el.textContent ?? ''))).replace(/\s+/g, ' ').trim();
    });
    if (name.test(focused)) return;
  }
  throw new Error(`No control matching ${name} could be reached with Tab`);
}

describe('keyboard alone', () => {
  it('creates the demo, backs up and restores it into another folder without the mouse; live data untouched', async () => {
    const host = await serve();
    const page = await openPage();
    await page.goto(host.url);
    await page.getByRole('heading', { name: 'Welcome to Lifeboat' }).waitFor();
    await tabTo(page, /^Create the demo environment$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'demo / notes' }).waitFor();
    await tabTo(page, /^Back up now$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /sealed$/ }).waitFor();

    const live = path.join(host.home, 'demo', 'live', 'notes.db');
    sqlite3(live, 'DELETE FROM notes WHERE id > 10;');
    const target = path.join(temp(), 'restored');

    await tabTo(page, /^See it in the history$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Restore demo_notes_\S+ elsewhere, away from the live data$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /Folder to restore into/);
    await page.keyboard.type(target);
    // The engine answers for the folder as it is typed; the button waits for that answer.
    await page.getByText(/Folder can be used/).waitFor();
    await tabTo(page, /^Next: see what will change$/);
    await page.keyboard.press('Enter');
    await page
      .getByText(/over the live data|into /)
      .first()
      .waitFor();
    await page.getByRole('row', { name: /^notes — 120/ }).waitFor();
    await tabTo(page, /^Next: checks before restoring$/);
    await page.keyboard.press('Enter');
    await page.getByText(/Every check passed/).waitFor();
    await tabTo(page, /^Next: confirm$/);
    await page.keyboard.press('Enter');
    await page.getByText('The live data is not touched.').waitFor();
    await shot(page, '24-restore-elsewhere-confirm');
    await tabTo(page, /^Restore into the folder$/);
    await page.keyboard.press('Enter');
    await page.getByText(/was restored into/).waitFor();
    await shot(page, '25-restore-elsewhere-result');

    expect(sqlite3(path.join(target, 'notes', 'notes.db'), 'SELECT count(*) FROM notes;')).toBe('120');
    expect(readdirSync(path.join(target, 'attachments')).length).toBe(12);
    // The live database still has the 10 notes it was left with: nothing there changed.
    expect(sqlite3(live, 'SELECT count(*) FROM notes;')).toBe('10');
    expect(existsSync(path.join(host.home, 'demo', 'backups'))).toBe(true);
    expect(problemsOf(page)).toEqual([]);
  });
});
