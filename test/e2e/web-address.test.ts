import { describe, expect, it } from 'vitest';
import { problemsOf, shot, useBrowser } from '../support/browser.js';
import { useServedHosts } from '../support/web-host.js';

const serve = useServedHosts();
// After the hosts: a failed test's picture is taken while its host still answers.
const openPage = useBrowser();

describe('the printed address of `lifeboat serve`, opened more than once', () => {
  it('a second tab is told the address was already used and how to get a new one, and sees no empty catalog', async () => {
    const host = await serve();
    const first = await openPage();
    await first.goto(host.url);
    await first.getByRole('heading', { name: 'Welcome to Lifeboat' }).waitFor();
    await first.getByRole('button', { name: 'Create the demo environment' }).click();
    await first.getByRole('heading', { name: 'demo / notes' }).waitFor();

    // The same address in a new tab (or after the browser was restarted: its tabs' storage is gone).
    const second = await openPage();
    await second.goto(host.url);
    await second.getByRole('heading', { name: 'This address was already used' }).waitFor();
    const text = await second.locator('body').innerText();
    expect(text).toContain('lifeboat serve');
    expect(text).toContain('Ctrl-C');
    expect(text).toContain('environments and backups are not affected');
    expect(text).toContain('desktop app');
    // Nothing that looks like Lifeboat with no data, and no error funnel above it.
    expect(text).not.toContain('You have no environments yet');
    expect(text).not.toContain('NO_SESSION');
    expect(text).not.toMatch(/failed/i);
    expect(await second.getByRole('button', { name: 'Create the demo environment' }).count()).toBe(0);
    expect(await second.getByRole('button').count()).toBe(0);
    expect(await second.getByRole('navigation', { name: 'Environments' }).count()).toBe(0);
    expect(await second.title()).toBe('Address already used — Lifeboat');
    // The token is gone from the address bar either way.
    expect(second.url()).toBe(`${host.origin}/`);
    expect(problemsOf(second).filter((p) => !p.includes('410'))).toEqual([]);
    await shot(second, '40-web-address-already-used');

    // The first tab still works, its data all there.
    await first.reload();
    await first.getByRole('heading', { name: 'demo / notes' }).waitFor();
    expect(problemsOf(first)).toEqual([]);
  });

  it('the address without its token says what is missing, not that there is no data', async () => {
    const host = await serve();
    const page = await openPage();
    await page.goto(`${host.origin}/`);
    await page.getByRole('heading', { name: 'This page is not connected to Lifeboat' }).waitFor();
    const text = await page.locator('body').innerText();
    expect(text).toContain('#token=');
    expect(text).not.toContain('You have no environments yet');
    expect(await page.getByRole('button').count()).toBe(0);
    await shot(page, '41-web-no-session');
  });
});
