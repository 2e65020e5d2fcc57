import { mkdirSync, openSync, readSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAppDb, makeAssets } from '../support/data.js';
import { problemsOf, shot, useBrowser } from '../support/browser.js';
import { demoEnvironment } from '../support/engine.js';
import { useServedHosts } from '../support/web-host.js';
import { jsonOf, runCli, sqlite3, useTempDirs, writeEnvFile } from '../support/tools.js';

const serve = useServedHosts();
// After the hosts: hooks after a test run last-registered first, so a failed test's picture is taken while its host still answers.
const openPage = useBrowser();
const temp = useTempDirs();

/** A protected shop/prod with a database and assets, backed up once from the command line. */
async function preparedShop(): Promise<{ root: string; home: string; db: string; setId: string; setPath: string }> {
  const root = temp();
  const home = path.join(root, 'home');
  mkdirSync(path.join(root, 'live'), { recursive: true });
  const db = path.join(root, 'live', 'shop.db');
  makeAppDb(db, { rows: 300 });
  makeAssets(path.join(root, 'live', 'assets'));
  const file = writeEnvFile(root, demoEnvironment(root));
  expect((await runCli(['env', 'import', file], home)).code).toBe(0);
  const backup = await runCli(['backup', '--env', 'prod', '--json'], home);
  expect(backup.code, backup.stderr).toBe(0);
  const set = jsonOf<{ id: string; path: string }>(backup);
  return { root, home, db, setId: set.id, setPath: set.path };
}

describe('screens that will not let an operator destroy the wrong thing', () => {
  it("a protected environment's restore stays refused until its name is typed", async () => {
    const shop = await preparedShop();
    sqlite3(shop.db, 'DELETE FROM orders;');
    const host = await serve({ home: shop.home });
    const page = await openPage();
    await page.goto(host.url);
    await page.getByRole('heading', { name: 'shop / prod' }).waitFor();
    await page.getByText('Restores ask you to type the name').waitFor();
    await page.getByRole('tab', { name: 'History' }).click();
    await page.getByRole('button', { name: `Restore ${shop.setId}`, exact: true }).click();
    await page.getByRole('button', { name: 'Next: see what will change' }).click();
    await page.getByRole('row', { name: /^orders 0 / }).waitFor();
    await page.getByRole('button', { name: 'Next: checks before restoring' }).click();
    await page.getByRole('button', { name: 'Next: confirm' }).click();

    const restore = page.getByRole('button', { name: 'Restore now' });
    const typed = page.getByRole('textbox', { name: 'Type prod to confirm' });
    expect(await restore.isDisabled()).toBe(true);
    await typed.fill('Prod');
    expect(await restore.isDisabled()).toBe(true);
    await typed.fill('pro');
    expect(await restore.isDisabled()).toBe(true);
    await shot(page, '11-protected-confirm-refused');
    expect(sqlite3(shop.db, 'SELECT count(*) FROM orders;')).toBe('0');

    // The engine refuses too, whatever a page sends: the web API without the name changes nothing.
    const secret = await page.evaluate(() => sessionStorage.getItem('lifeboat.session'));
    const direct = await fetch(`${host.origin}/api/call/restore.run`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Lifeboat-Session': secret! },
      body: JSON.stringify({ env: 'shop/prod', set: shop.setId, confirm: 'pro' }),
    });
    const answer = (await direct.json()) as { ok: boolean; error?: { code: string } };
    expect(answer).toMatchObject({ ok: false, error: { code: 'CONFIRMATION_REQUIRED' } });
    expect(sqlite3(shop.db, 'SELECT count(*) FROM orders;')).toBe('0');

    await typed.fill('prod');
    expect(await restore.isDisabled()).toBe(false);
    await shot(page, '12-protected-confirm-typed');
    await restore.click();
    await page.getByText(`${shop.setId} is now the live data of shop / prod`).waitFor();
    expect(Number(sqlite3(shop.db, 'SELECT count(*) FROM orders;'))).toBeGreaterThan(0);
    expect(problemsOf(page)).toEqual([]);
  });

  it('a corrupted set shows a FAIL naming the artifact, and its restore is refused', async () => {
    const shop = await preparedShop();
    // One flipped byte in the middle of the database artifact.
    const artifact = path.join(shop.setPath, 'db.sqlite.gz');
    const fd = openSync(artifact, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 200);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, 200);
    closeSync(fd);

    const host = await serve({ home: shop.home });
    const page = await openPage();
    await page.goto(host.url);
    await page.getByRole('tab', { name: 'History' }).click();
    await page.getByRole('button', { name: `Check ${shop.setId}` }).click();
    await page.getByText('Drill failed').waitFor();
    await page.getByText(/Failed: db\.sqlite\.gz — /).waitFor();
    const failedRow = page.getByRole('row', { name: /db\.sqlite\.gz .*FAIL/ }).first();
    await failedRow.waitFor();
    await shot(page, '13-drill-failed');

    await page.getByRole('button', { name: 'Back to the history' }).click();
    const restore = page.getByRole('button', { name: `Restore ${shop.setId}`, exact: true });
    await restore.waitFor();
    expect(await restore.isDisabled()).toBe(true);
    await page.getByText('A backup whose check failed cannot be restored').waitFor();
    await shot(page, '14-history-failed-set');

    // And the engine refuses it whatever the page does.
    const secret = await page.evaluate(() => sessionStorage.getItem('lifeboat.session'));
    const before = sqlite3(shop.db, 'SELECT count(*) FROM orders;');
    const direct = await fetch(`${host.origin}/api/call/restore.run`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Lifeboat-Session': secret! },
      body: JSON.stringify({ env: 'shop/prod', set: shop.setId, confirm: 'prod' }),
    });
    expect(await direct.json()).toMatchObject({ ok: false, error: { code: 'SET_FAILED_DRILL' } });
    expect(sqlite3(shop.db, 'SELECT count(*) FROM orders;')).toBe(before);
  });

  it('the environment editor shows each problem of a bad environment at once', async () => {
    const root = temp();
    mkdirSync(path.join(root, 'live', 'assets'), { recursive: true });
    writeFileSync(path.join(root, 'live', 'assets', 'readme.txt'), 'x');
    writeFileSync(path.join(root, 'live', 'notes.txt'), 'not a database');
    writeFileSync(path.join(root, 'a-file'), 'x');
    const host = await serve({ home: path.join(root, 'home') });
    const page = await openPage();
    await page.goto(host.url);
    await page.getByRole('button', { name: '+ Add an environment' }).click();
    await page.getByRole('textbox', { name: /^Application/ }).fill('Shop!');
    await page.getByRole('textbox', { name: /^Environment name/ }).fill('prod');
    await page.getByRole('textbox', { name: /^Backup location/ }).fill(path.join(root, 'a-file', 'sets'));
    await page.getByRole('textbox', { name: 'Database file' }).fill(path.join(root, 'live', 'notes.txt'));
    await page.getByRole('button', { name: '+ Folder' }).click();
    await page.getByRole('textbox', { name: /^Folder(?! of)/ }).fill(path.join(root, 'live', 'assets'));
    await page.getByRole('textbox', { name: /^Include/ }).fill('**/*.png');
    await page.getByRole('button', { name: '+ SQLite database' }).click();
    await page.getByRole('textbox', { name: 'Database file' }).nth(1).fill('data/app.db');

    const summary = page.getByRole('status').filter({ hasText: 'problems to fix before saving' });
    await summary.getByText('5 problems to fix before saving:').waitFor();
    // The last field's own check lands after the count: wait for its line, not only for the count.
    await summary.filter({ hasText: /sources\[2\]\.path: give a full path/ }).waitFor();
    const text = await summary.textContent();
    expect(text).toMatch(/app: use 1 to 40 lowercase letters/);
    expect(text).toMatch(/location: .*a-file is a file, not a folder/);
    expect(text).toMatch(/sources\[0\]\.path: .*is not a SQLite database/);
    expect(text).toMatch(/sources\[1\]\.include: no file in the folder matches these globs/);
    expect(text).toMatch(/sources\[2\]\.path: give a full path/);
    expect(await page.getByRole('button', { name: 'Save environment' }).isDisabled()).toBe(true);
    await shot(page, '15-editor-problems');

    // Fixing them one by one clears them, and the globs say how many files they take.
    await page.getByRole('textbox', { name: /^Application/ }).fill('shop');
    await page.getByRole('textbox', { name: /^Include/ }).fill('**/*');
    await page.getByText('1 file match, 1 byte').waitFor();
    await summary.getByText('3 problems to fix before saving:').waitFor();
    expect(problemsOf(page)).toEqual([]);
  });
});
