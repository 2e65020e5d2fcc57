import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLiveData } from '../support/data.js';
import { problemsOf, shot, useBrowser } from '../support/browser.js';
import { demoEnvironment } from '../support/engine.js';
import { useServedHosts } from '../support/web-host.js';
import { jsonOf, runCli, sqlite3, useTempDirs, writeEnvFile } from '../support/tools.js';

const serve = useServedHosts();
// After the hosts: hooks after a test run last-registered first, so a failed test's picture is taken while its host still answers.
const openPage = useBrowser();
const temp = useTempDirs();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** shop/prod (normal protection) backed up once and drilled once from the command line: its drill passed. */
async function drilledShop(): Promise<{ root: string; home: string; db: string; setId: string; setPath: string }> {
  const root = temp();
  const home = path.join(root, 'home');
  makeLiveData(root, { rows: 300 });
  expect((await runCli(['env', 'import', writeEnvFile(root, demoEnvironment(root, { protection: 'normal' }))], home)).code).toBe(0);
  const backup = await runCli(['backup', '--env', 'prod', '--json'], home);
  expect(backup.code, backup.stderr).toBe(0);
  const set = jsonOf<{ id: string; path: string }>(backup);
  const drill = await runCli(['drill', '--env', 'prod', '--set', set.id], home);
  expect(drill.code, drill.stderr).toBe(0);
  return { root, home, db: path.join(root, 'live', 'shop.db'), setId: set.id, setPath: set.path };
}

function flipByte(file: string, at = 200): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

/** Another process with the file open, as the application would have it. */
function holdOpen(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(file)}, 'r'); console.log('open'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve) => child.stdout!.once('data', () => resolve(child)));
}

/** History → Restore… → the preview → the checks step. */
async function toChecks(page: Page, url: string, setId: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('tab', { name: 'History' }).click();
  await page.getByRole('button', { name: `Restore ${setId}`, exact: true }).click();
  await page.getByRole('button', { name: 'Next: see what will change' }).click();
  await page.getByText(`Restoring ${setId} over the live data changes this:`).waitFor();
  await page.getByRole('button', { name: 'Next: checks before restoring' }).click();
}

/** The same screen at the two window sizes operators use. */
async function shots(page: Page, name: string): Promise<void> {
  await shot(page, `${name}-1280x800`);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await shot(page, `${name}-1920x1080`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

// Each test backs up, drills and opens the wizard through real processes: slow on a busy machine.
describe("the restore wizard's checks are the engine's pre-flight, run now", { timeout: 300_000 }, () => {
  it('a set damaged after its drill passed shows FAIL naming the artifact, and the restore cannot be confirmed', async () => {
    const shop = await drilledShop();
    flipByte(path.join(shop.setPath, 'db.sqlite.gz'));
    const host = await serve({ home: shop.home });
    const page = await openPage();
    await toChecks(page, host.url, shop.setId);

    await page.getByText(/Cannot restore now/).waitFor();
    await page.getByRole('row', { name: /drill of the set FAIL the drill failed: db\.sqlite\.gz: size and SHA-256 as recorded/ }).waitFor();
    await page.getByText('1 check failed: drill of the set (set). Nothing was changed.').waitFor();
    expect(await page.getByRole('button', { name: 'Next: confirm' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: /^Restore/ }).count()).toBe(0);
    await shots(page, '40-restore-checks-failed');
    expect(sqlite3(shop.db, 'SELECT count(*) FROM orders;')).toBe('300');
    expect(problemsOf(page)).toEqual([]);
  });

  it('a target in use FAILs with the process named; Check again after it closes passes, and the restore runs', async () => {
    const shop = await drilledShop();
    const holder = await holdOpen(shop.db);
    sqlite3(shop.db, 'DELETE FROM orders;');
    const host = await serve({ home: shop.home });
    const page = await openPage();
    await toChecks(page, host.url, shop.setId);

    await page.getByRole('row', { name: new RegExp(`not in use FAIL in use by node \\(pid ${holder.pid}\\)`) }).waitFor();
    expect(await page.getByRole('button', { name: 'Next: confirm' }).isDisabled()).toBe(true);

    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    await page.getByRole('button', { name: 'Check again' }).click();
    await page.getByText(/Every check passed \(checked /).waitFor();
    expect(await page.getByRole('row', { name: /FAIL/ }).count()).toBe(0);
    await page.getByRole('row', { name: /drill of the set PASS/ }).waitFor();
    await shots(page, '42-restore-checks-passed');

    await page.getByRole('button', { name: 'Next: confirm' }).click();
    await page.getByRole('button', { name: 'Restore now' }).click();
    await page.getByText(`${shop.setId} is now the live data of shop / prod`).waitFor();
    expect(sqlite3(shop.db, 'SELECT count(*) FROM orders;')).toBe('300');
    expect(problemsOf(page)).toEqual([]);
  });

  it("shows the drill's progress while the checks run, and Cancel stops them without allowing the restore", async () => {
    const shop = await drilledShop();
    // The host's drills stop after hashing the artifacts until they are cancelled: a screen test's way to see work in progress.
    const host = await serve({ home: shop.home, env: { LIFEBOAT_TEST_STALL: 'drill:hashed' } });
    const page = await openPage();
    await toChecks(page, host.url, shop.setId);

    await page.getByRole('progressbar', { name: /^Checking before restoring: \d+%$/ }).waitFor();
    await page.getByText('content checks').waitFor();
    await page.getByText(/ of \d+ files$/).waitFor();
    expect(await page.getByRole('button', { name: 'Next: confirm' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Check again' }).isDisabled()).toBe(true);
    await shots(page, '41-restore-checks-running');

    await page.getByRole('button', { name: 'Cancel', exact: true }).last().click();
    await page.getByText(/The checks were cancelled, so the restore cannot go ahead/).waitFor();
    expect(await page.getByRole('button', { name: 'Next: confirm' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Check again' }).isDisabled()).toBe(false);
    expect(problemsOf(page)).toEqual([]);
  });

  it('restore elsewhere refuses a folder that is not empty where the folder is typed', async () => {
    const shop = await drilledShop();
    const full = path.join(shop.root, 'full');
    mkdirSync(full);
    writeFileSync(path.join(full, 'keep.txt'), 'mine');
    const host = await serve({ home: shop.home });
    const page = await openPage();
    await page.goto(host.url);
    await page.getByRole('tab', { name: 'History' }).click();
    await page.getByRole('button', { name: `Restore ${shop.setId} elsewhere, away from the live data` }).click();
    const field = page.getByRole('textbox', { name: 'Folder to restore into (empty or new)' });
    const next = page.getByRole('button', { name: 'Next: see what will change' });

    await field.fill(full);
    await page.getByText(`${full} already holds 1 entry (keep.txt); choose an empty or new folder.`).waitFor();
    await page.getByText('Cannot restore here').waitFor();
    expect(await next.isDisabled()).toBe(true);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await shot(page, '43-restore-elsewhere-folder-refused');

    await field.fill('restored');
    await page.getByText('"restored" is not a full path').waitFor();
    expect(await next.isDisabled()).toBe(true);

    const fresh = path.join(shop.root, 'restored');
    await field.fill(fresh);
    await page.getByText(`${fresh} does not exist yet; the restore creates it.`).waitFor();
    expect(await next.isDisabled()).toBe(false);
    await next.click();
    await page.getByText(`Restoring ${shop.setId} into ${fresh} changes this:`).waitFor();
    expect(problemsOf(page)).toEqual([]);
  });
});
