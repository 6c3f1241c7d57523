import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../lib/local/tokens';
import { type TestApi, useApi } from './api';

/** Debian's Chromium (`apt-get install chromium`), driven by playwright-core; no browser download. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the tests leave their screenshots (not committed). */
export const artifacts = fileURLToPath(new URL('../../test-artifacts', import.meta.url));

/** How a page is opened: how often it polls (ms), and the window's size (1100 × 800 by default). */
export interface PageOptions {
  poll?: number;
  width?: number;
  height?: number;
  /** Playwright's fake clock in the page, installed before it loads (time runs until told otherwise). */
  clock?: boolean;
  /**
   * The live channel (default on). Off (`?live=0`), the page learns of others' changes only
   * by polling: with a long `poll`, a page that has not heard of a change yet.
   */
  live?: boolean;
}

export interface BrowserApi {
  api: TestApi;
  /** A new browser context (its own storage) signed in as a demo user, at `hash`. */
  signedIn(user: string, hash: string, options?: PageOptions): Promise<Page>;
  /** A page in a new browser context, signed in as nobody. */
  newPage(options?: PageOptions): Promise<Page>;
}

/**
 * The web app as `vite build` makes it, served by the local server over this file's table,
 * in real Chromium. Each user is a context of its own: two windows, two people.
 */
export const useBrowser = (): BrowserApi => {
  const webRoot = join(tmpdir(), `web-${randomUUID()}`);
  const api = useApi({ webRoot, live: true });
  let browser: Browser | undefined;
  beforeAll(async () => {
    const { build } = await import('vite');
    await build({
      configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)),
      build: { outDir: webRoot, emptyOutDir: true },
      logLevel: 'error',
    });
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  const newPage = async ({ width = 1100, height = 800, clock = false }: PageOptions = {}) => {
    if (!browser) throw new Error('The browser is not started.');
    const context = await browser.newContext({ viewport: { width, height }, locale: 'en-US' });
    const page = await context.newPage();
    if (clock) await page.clock.install();
    return page;
  };
  return {
    api,
    newPage,
    signedIn: async (user, hash, options = {}) => {
      const page = await newPage(options);
      await page.goto(
        `${api.url}/?poll=${options.poll ?? 300}${options.live === false ? '&live=0' : ''}${hash}`,
      );
      await page.getByRole('button', { name: new RegExp(`^Sign in as ${user} `) }).click();
      await page.getByText(`Signed in as ${user}`).waitFor();
      return page;
    },
  };
};

/** The text of the first element matching `selector`, trimmed. */
export const textOf = async (page: Page, selector: string): Promise<string> =>
  ((await page.locator(selector).first().textContent()) ?? '').trim();

/** A token of the local server that expired a minute ago: what a tab holds after an hour away. */
export const expiredToken = (api: TestApi, sub: string, groups: string[]): Promise<string> =>
  new SignJWT({ groups })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 3660)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(api.secret);

/** How far the page is wider than its window (0: no horizontal scroll). */
export const overflowX = (page: Page): Promise<number> =>
  page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');

/** The tag name of the element that has the keyboard focus. */
export const focused = (page: Page): Promise<string | undefined> =>
  page.evaluate<string | undefined>('document.activeElement?.tagName');

/** The rows of a table as the text of their cells. */
export const rowsOf = (page: Page, selector: string): Promise<(string | null)[][]> =>
  page
    .locator(selector)
    .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
