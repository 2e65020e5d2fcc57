import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { problemsOf, shot, useBrowser } from '../support/browser.js';
import { PG_PASSWORD, PG_PASSWORD_ENV, PG_USER, usePostgres } from '../support/postgres.js';
import { useServedHosts } from '../support/web-host.js';
import { useTempDirs } from '../support/tools.js';

const serve = useServedHosts();
// After the hosts: hooks after a test run last-registered first, so a failed test's picture is taken while its host still answers.
const openPage = useBrowser();
const temp = useTempDirs();
const server = usePostgres();

describe('a PostgreSQL environment on the screens', () => {
  it('is added in the editor (the server is reached), backed up, and restored into a new database without touching the live one', async () => {
    const pg = server();
    const db = pg.createDatabase('ledger');
    pg.sql(db, "CREATE TABLE accounts (id serial PRIMARY KEY, owner text NOT NULL); INSERT INTO accounts (owner) SELECT 'owner ' || g FROM generate_series(1, 50) g;");
    const root = temp();
    const host = await serve({ home: path.join(root, 'home'), env: { [PG_PASSWORD_ENV]: PG_PASSWORD } });
    const page = await openPage();
    await page.goto(host.url);

    await page.getByRole('button', { name: '+ Add an environment' }).click();
    await page.getByRole('textbox', { name: /^Application/ }).fill('ledger');
    await page.getByRole('textbox', { name: /^Environment name/ }).fill('test');
    await page.getByRole('textbox', { name: /^Backup location/ }).fill(path.join(root, 'backups'));
    await page.getByRole('button', { name: '+ PostgreSQL database' }).click();
    await page.getByRole('button', { name: 'Remove source db' }).click();
    await page.getByRole('textbox', { name: /^Database(?! file)/ }).fill(db);
    await page.getByRole('textbox', { name: /^User\b/ }).fill(PG_USER);
    await page.getByRole('textbox', { name: /^Host or socket folder/ }).fill(pg.socketDir);
    await page.getByRole('textbox', { name: /^Port\b/ }).fill(String(pg.port));
    await page.getByRole('textbox', { name: /^Password from the variable/ }).fill(PG_PASSWORD_ENV);
    await page.getByText(/^✔ Server reached, programs found/).waitFor();
    await page.getByText('No problems found.').waitFor();
    await shot(page, '29-editor-postgres');
    await page.getByRole('button', { name: 'Save environment' }).click();

    await page.getByRole('heading', { name: 'ledger / test' }).waitFor();
    await page.getByRole('button', { name: 'Back up now' }).click();
    const sealed = page.getByRole('heading', { name: /^Backup ledger_test_\S+ sealed$/ });
    await sealed.waitFor();
    const setId = (await sealed.textContent())!.match(/ledger_test_\S+/)![0];

    pg.sql(db, 'DELETE FROM accounts WHERE id > 5;');
    await page.getByRole('button', { name: 'See it in the history' }).click();
    await page.getByRole('button', { name: `Restore ${setId} elsewhere, away from the live data` }).click();
    await page.getByRole('textbox', { name: /^New database to restore/ }).fill(`${db}_copy`);
    await page.getByRole('button', { name: 'Next: see what will change' }).click();
    await page.getByRole('row', { name: /^public\.accounts — 50/ }).waitFor();
    await shot(page, '30-postgres-restore-preview');
    await page.getByRole('button', { name: 'Next: checks before restoring' }).click();
    await page.getByRole('button', { name: 'Next: confirm' }).click();
    await page.getByRole('button', { name: 'Restore into the new database' }).click();
    await page.getByText(/was restored into the new database/).waitFor();
    await shot(page, '31-postgres-restore-result');

    expect(pg.sql(`${db}_copy`, 'SELECT count(*) FROM accounts;')).toBe('50');
    expect(pg.sql(db, 'SELECT count(*) FROM accounts;')).toBe('5');
    expect(problemsOf(page)).toEqual([]);
  });
});
