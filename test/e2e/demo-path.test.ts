import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { problemsOf, shot, useBrowser } from '../support/browser.js';
import { useServedHosts } from '../support/web-host.js';
import { sqlite3 } from '../support/tools.js';

const serve = useServedHosts();
// After the hosts: hooks after a test run last-registered first, so a failed test's picture is taken while its host still answers.
const openPage = useBrowser();

describe("a newcomer's first minutes, in the browser through `lifeboat serve`", () => {
  it('demo → back up → check passes → change the data → restore with a preview → the data is back', async () => {
    const host = await serve();
    const page = await openPage();
    await page.goto(host.url);

    // First launch: no environments, so the demo is offered.
    await page.getByRole('heading', { name: 'Welcome to Lifeboat' }).waitFor();
    await shot(page, '01-welcome');
    await page.getByRole('button', { name: 'Create the demo environment' }).click();
    await page.getByRole('heading', { name: 'demo / notes' }).waitFor();
    await page.getByRole('button', { name: /demo \/ notes, never backed up/ }).waitFor();
    await shot(page, '02-overview-empty');

    // Back up: the result names the sealed set.
    await page.getByRole('button', { name: 'Back up now' }).click();
    const sealed = page.getByRole('heading', { name: /^Backup demo_notes_\d{8}_\d{6}(_\d+)? sealed$/ });
    await sealed.waitFor();
    const setId = (await sealed.textContent())!.match(/demo_notes_\d{8}_\d{6}(_\d+)?/)![0];
    await shot(page, '03-backup-sealed');
    await page.getByText(/^3 artifacts, /).waitFor();

    // Check it: a drill report that passes, naming each artifact.
    await page.getByRole('button', { name: 'Check this backup' }).click();
    await page.getByText('Drill passed').waitFor();
    const report = page.getByRole('table', { name: `Checks of ${setId}` });
    await report.getByText('notes.sqlite.gz').first().waitFor();
    await report.getByText('attachments.tar.gz').first().waitFor();
    expect(await report.getByText('FAIL').count()).toBe(0);
    await shot(page, '04-drill-passed');

    // The operator's data changes: rows deleted, an attachment lost.
    const demo = path.join(host.home, 'demo', 'live');
    sqlite3(path.join(demo, 'notes.db'), 'DELETE FROM notes WHERE id > 20; DELETE FROM tags WHERE note_id > 20;');
    rmSync(path.join(demo, 'attachments', 'attachment-03.txt'));

    // Restore from the history, through the wizard.
    await page.getByRole('button', { name: 'Back to the history' }).click();
    await page.getByRole('button', { name: `Restore ${setId}`, exact: true }).click();
    await page.getByRole('button', { name: 'Next: see what will change' }).click();
    const notesRow = page.getByRole('row', { name: /^notes 20 120/ });
    await notesRow.waitFor();
    await page.getByText('Added back: 1 file').waitFor();
    await shot(page, '05-restore-preview');
    await page.getByRole('button', { name: 'Next: checks before restoring' }).click();
    await page.getByText(/Every check passed \(checked .+\); the restore can go ahead\./).waitFor();
    await shot(page, '06-restore-checks');
    await page.getByRole('button', { name: 'Next: confirm' }).click();
    await shot(page, '07-restore-confirm');
    await page.getByRole('button', { name: 'Restore now' }).click();
    await page.getByText(new RegExp(`${setId} is now the live data of demo / notes`)).waitFor();
    await page.getByText(/safety backup demo_notes_/).waitFor();
    await page.getByRole('button', { name: 'Undo this restore' }).waitFor();
    await shot(page, '08-restore-result');

    // The data is back, read by the sqlite3 command, not by Lifeboat.
    expect(sqlite3(path.join(demo, 'notes.db'), 'SELECT count(*) FROM notes;')).toBe('120');
    expect(existsSync(path.join(demo, 'attachments', 'attachment-03.txt'))).toBe(true);

    // "Undo this restore" offers the safety backup, whose preview shows the way back to 20 notes.
    await page.getByRole('button', { name: 'Undo this restore' }).click();
    await page.getByRole('row', { name: /^notes 120 20/ }).waitFor();
    await shot(page, '08b-undo-preview');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(sqlite3(path.join(demo, 'notes.db'), 'SELECT count(*) FROM notes;')).toBe('120');

    // The activity log tells the story, with the door it came through.
    await page.getByRole('tab', { name: 'Activity' }).click();
    await page.getByRole('cell', { name: 'Restore', exact: true }).first().waitFor();
    expect(await page.getByRole('cell', { name: 'web', exact: true }).count()).toBeGreaterThanOrEqual(3);
    await shot(page, '09-activity');
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.getByText('Passed').first().waitFor();
    await shot(page, '10-overview');
    expect(problemsOf(page)).toEqual([]);
  });
});
