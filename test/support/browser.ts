/// <reference lib="dom" />
// page.evaluate bodies run in the browser page, so this file sees the DOM's types.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { requireBinary, ROOT } from './tools.js';

/** Screenshots go here (ignored by git); open them to look at every screen. */
export const SHOTS = path.join(ROOT, 'test-output', 'screenshots');

/**
 * Debian's Chromium, headless, driven by playwright-core. The flags keep it from reaching for
 * Google's services, which this machine's closed network refuses.
 */
export function useBrowser(): (opts?: { width?: number; height?: number; dark?: boolean }) => Promise<Page> {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    const executablePath = requireBinary('chromium', 'chromium');
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
  });
  afterEach(async (ctx) => {
    // A failed test leaves a picture of each of its pages, to see what the screen showed instead.
    if (ctx.task.result?.state === 'fail') {
      mkdirSync(SHOTS, { recursive: true });
      const pages = contexts.flatMap((c) => c.pages());
      await Promise.all(pages.map((p, i) => p.screenshot({ path: path.join(SHOTS, `FAILED-${ctx.task.name.slice(0, 60).replace(/[^a-z0-9]+/gi, '-')}-${i}.png`) }).catch(() => undefined)));
    }
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });
  return async ({ width = 1280, height = 800, dark = false } = {}) => {
    const context = await browser!.newContext({ viewport: { width, height }, colorScheme: dark ? 'dark' : 'light', acceptDownloads: true });
    contexts.push(context);
    // Waits end a hang, they never time a screen: on a busy 2-core machine a CLI start alone can take seconds.
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    (page as Page & { problems: string[] }).problems = problems;
    return page;
  };
}

/** The page's script errors and console errors so far; a screen that logs errors is not done. */
export function problemsOf(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/**
 * The visible controls that have no accessible name (no label, aria-label, labelled-by or text):
 * every control must have one, so screen readers and the tests can find it.
 */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [role="tab"], [role="button"]')) {
      if (el.offsetParent === null) continue;
      const labelled = el.getAttribute('aria-labelledby');
      const name =
        el.getAttribute('aria-label') ||
        (labelled
          ? labelled
              .split(' ')
              .map((id) => document.getElementById(id)?.textContent ?? '')
              .join(' ')
              .trim()
          : '') ||
        [...((el as HTMLInputElement).labels ?? [])]
          .map((l) => l.textContent ?? '')
          .join(' ')
          .trim() ||
        (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' ? '' : el.textContent?.trim()) ||
        el.getAttribute('title');
      if (!name) out.push(el.outerHTML.slice(0, 160));
    }
    return out;
  });
}

/**
 * The visible controls cut off at the side by an ancestor that hides its overflow (a table too wide
 * for the window, say): an operator cannot reach what they cannot see.
 */
export function clippedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href]')) {
      if (el.offsetParent === null) continue;
      const box = el.getBoundingClientRect();
      if (box.width === 0) continue;
      for (let up = el.parentElement; up; up = up.parentElement) {
        const overflow = getComputedStyle(up).overflowX;
        if (overflow !== 'hidden' && overflow !== 'clip') continue;
        const frame = up.getBoundingClientRect();
        if (box.right > frame.right + 1 || box.left < frame.left - 1) {
          out.push(`${el.outerHTML.slice(0, 120)} (${Math.round(box.right - frame.right)} px past the edge)`);
          break;
        }
      }
    }
    return out;
  });
}

/** Saves a full-page screenshot as test-output/screenshots/NAME.png, after checking every control is named and none is cut off. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // The app scrolls inside its main pane; let the page grow for the picture so nothing is cut off.
  const unclip = await page.addStyleTag({
    content: 'html, body, #app, .shell { height: auto !important; } .shell { min-height: 100vh; } main { overflow: visible !important; } .sidebar { height: auto !important; }',
  });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  await unclip.evaluate((el) => (el as Element).remove());
  const unnamed = await unnamedControls(page);
  if (unnamed.length) throw new Error(`Screen ${name} has controls without an accessible name:\n${unnamed.join('\n')}`);
  const clipped = await clippedControls(page);
  if (clipped.length) throw new Error(`Screen ${name} cuts off controls at the side:\n${clipped.join('\n')}`);
}
