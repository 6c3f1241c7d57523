import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type TestApi, useApi } from './api';

/** Debian's Chromium (`apt-get install chromium`), driven by playwright-core; no browser download. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the tests leave their screenshots (not committed). */
export const artifacts = fileURLToPath(new URL('../../test-artifacts', import.meta.url));

export interface BrowserApi {
  api: TestApi;
  /** A new browser context (its own session storage) signed in as a demo user, at `hash`. */
  signedIn(user: string, hash: string): Promise<Page>;
  /** A page in a new browser context, signed in as nobody. */
  newPage(): Promise<Page>;
}

/**
 * The web app as `vite build` makes it, served by the local server over this file's table,
 * in real Chromium. Each user is a context of its own: two windows, two people.
 */
export const useBrowser = (): BrowserApi => {
  const webRoot = join(tmpdir(), `web-${randomUUID()}`);
  const api = useApi({ webRoot });
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
  const newPage = async () => {
    if (!browser) throw new Error('The browser is not started.');
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    return context.newPage();
  };
  return {
    api,
    newPage,
    signedIn: async (user, hash) => {
      const page = await newPage();
      await page.goto(`${api.url}/?poll=300${hash}`);
      await page.getByRole('button', { name: new RegExp(`^Sign in as ${user} `) }).click();
      await page.getByText(`Signed in as ${user}`).waitFor();
      return page;
    },
  };
};

/** The text of the first element matching `selector`, trimmed. */
export const textOf = async (page: Page, selector: string): Promise<string> =>
  ((await page.locator(selector).first().textContent()) ?? '').trim();
