import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../lib/client/api-client';
import { expiredToken, useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();
let alice: ApiClient;

beforeAll(async () => {
  alice = api.client(await api.tokenFor('alice', 'sales'));
});

/** Alice's page on a new annotation, with `text` typed into its description and nothing saved. */
const typed = async (text: string) => {
  const created = await alice.createAnnotation({ name: `Draft ${text}` });
  const page = await signedIn('alice', `#/annotations/${created.id}`);
  await page.getByLabel('Description').fill(text);
  await page.getByText('Unsaved work (1)').waitFor();
  return { id: created.id, page };
};

/** After coming back: the text is there, said to be kept, and saving it stores it. */
const savedAfterAll = async (page: Page, id: string, text: string) => {
  await page.getByText(/^Your unsaved changes from .* were kept/).waitFor();
  expect(await page.getByLabel('Description').inputValue()).toBe(text);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved: version 2.').waitFor();
  expect(await alice.getAnnotation(id)).toMatchObject({ description: text, version: 2 });
  expect(await page.getByText(/^Unsaved work/).count()).toBe(0);
};

/** The tab's session as it is after an hour away: its token expired. */
const expire = async (page: Page) => {
  const expired = await expiredToken(api, 'alice', ['sales']);
  await page.evaluate(`(() => {
    const key = 'no-lost-updates.session';
    sessionStorage.setItem(key, JSON.stringify({ ...JSON.parse(sessionStorage.getItem(key)), token: '${expired}' }));
  })()`);
};

describe('text typed is never lost', () => {
  it('survives a reload, after the browser asks before leaving', async () => {
    const { id, page } = await typed('typed before a reload');
    const asked: string[] = [];
    page.on('dialog', (dialog) => {
      asked.push(dialog.type());
      void dialog.accept();
    });
    await page.reload();
    await page.getByText('Signed in as alice').waitFor();
    expect(asked).toEqual(['beforeunload']);
    await savedAfterAll(page, id, 'typed before a reload');
  });

  it('survives a navigation link and the back button', async () => {
    const { id, page } = await typed('typed before going back');
    await page.getByRole('link', { name: 'Orders' }).click();
    await page.getByRole('heading', { name: 'Orders' }).waitFor();
    await page.getByRole('link', { name: 'Unsaved work (1)' }).click();
    await page.getByRole('link', { name: 'Annotation “Draft typed before going back”' }).waitFor();
    await page.goBack();
    await page.goBack();
    await savedAfterAll(page, id, 'typed before going back');
  });

  it('survives signing out (which asks, and keeps it for the same user) and signing in again', async () => {
    const { id, page } = await typed('typed before signing out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign out with unsaved work?' });
    expect(await dialog.locator('p').textContent()).toBe(
      'You have unsaved changes on 1 record. Kept, they stay in this browser and come back when you sign in again as alice; on a shared computer, drop them.',
    );
    await dialog.getByRole('button', { name: 'Sign out, keep them' }).click();
    await page.getByRole('button', { name: /^Sign in as bob / }).click();
    await page.getByText('Signed in as bob').waitFor();
    expect(await page.getByText(/^Unsaved work/).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: /^Sign in as alice / }).click();
    await savedAfterAll(page, id, 'typed before signing out');
  });

  it('survives an expired session: the token is renewed in place and the save goes on', async () => {
    const { id, page } = await typed('typed before the session expired');
    await expire(page);
    const refused: number[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/annotations/') && response.status() === 401) refused.push(401);
    });
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved: version 2.').waitFor();
    expect([refused.length > 0, await alice.getAnnotation(id)]).toEqual([
      true,
      expect.objectContaining({ description: 'typed before the session expired', version: 2 }),
    ]);
  });

  it('survives a session nothing can renew: the person signs in again over the page, and the save goes on', async () => {
    const { id, page } = await typed('typed before signing in again');
    await expire(page);
    // The quiet renewal fails once (the sign-in service is away); the person's own sign-in works.
    let renewals = 0;
    await page.route('**/_local/token', async (route) => {
      renewals += 1;
      return renewals === 1 ? route.abort('failed') : route.continue();
    });
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const again = page.getByRole('main', { name: 'Your session has expired: sign in again as alice' });
    await again.waitFor();
    expect(await again.getByRole('button', { name: /^Sign in as / }).allTextContents()).toEqual([
      'Sign in as alice (sales)',
    ]);
    expect(await page.getByLabel('Description').inputValue()).toBe('typed before signing in again');
    await again.getByRole('button', { name: 'Sign in as alice (sales)' }).click();
    await page.getByText('Saved: version 2.').waitFor();
    expect(await alice.getAnnotation(id)).toMatchObject({
      description: 'typed before signing in again',
      version: 2,
    });
  });

  it('a new record’s name typed but not yet created survives a reload', async () => {
    const page = await signedIn('alice', '#/annotations');
    await page.getByLabel('New annotation name').fill('Not created yet');
    page.on('dialog', (dialog) => void dialog.accept());
    await page.reload();
    await page.getByText('Signed in as alice').waitFor();
    expect(await page.getByLabel('New annotation name').inputValue()).toBe('Not created yet');
  });

  it('an open conflict, with the choices made in it, survives a reload and is then decided', async () => {
    const created = await alice.createAnnotation({ name: 'Conflicted', description: 'd0' });
    const b = await signedIn('bob', `#/annotations/${created.id}`, { poll: 600_000, live: false });
    await b.getByLabel('Name', { exact: true }).fill('Bob’s name');
    await b.getByLabel('Description').fill('bob desc');
    await alice.patchAnnotation(created.id, 1, { description: 'alice desc' });
    await b.getByRole('button', { name: 'Save', exact: true }).click();
    await b.getByLabel('Take theirs for description').check();
    b.on('dialog', (dialog) => void dialog.accept());
    await b.reload();
    await b.getByRole('region', { name: 'Conflict' }).waitFor();
    expect(await b.getByLabel('Take theirs for description').isChecked()).toBe(true);
    await b.getByRole('button', { name: 'Save my choices' }).click();
    await b.getByText('Saved: version 3.').waitFor();
    expect(await alice.getAnnotation(created.id)).toMatchObject({
      name: 'Bob’s name',
      description: 'alice desc',
      version: 3,
    });
  });

  it('survives a second tab of the same record that has nothing unsaved reading a colleague’s change', async () => {
    const created = await alice.createAnnotation({ name: 'Two tabs' });
    // Both tabs poll every 10 minutes and have no live channel: each reads only when told.
    const quiet = { poll: 600_000, live: false } as const;
    const first = await signedIn('alice', `#/annotations/${created.id}`, quiet);
    const second = await first.context().newPage();
    await second.goto(`${api.url}/?poll=600000&live=0#/annotations/${created.id}`);
    await second.getByRole('button', { name: /^Sign in as alice / }).click();
    await second.getByLabel('Description').waitFor();
    await first.getByLabel('Description').fill('typed in the first tab');
    await first.getByText('Unsaved work (1)').waitFor();
    await alice.patchAnnotation(created.id, 1, { name: 'Two tabs, renamed' });

    // The second tab gets the focus back and reads the change: it has nothing unsaved, and
    // the first tab's draft is not its to remove.
    await second.evaluate("dispatchEvent(new Event('focus'))");
    await second.getByRole('heading', { name: 'Annotation “Two tabs, renamed”' }).waitFor();
    first.on('dialog', (dialog) => void dialog.accept());
    await first.reload();
    await first.getByText(/^Your unsaved changes from .* were kept/).waitFor();
    expect(await first.getByLabel('Description').inputValue()).toBe('typed in the first tab');
    // Saved over version 1, it meets the colleague's rename: only they changed the name, only
    // this person the description, and saving their choices writes the description alone.
    await first.getByRole('button', { name: 'Save', exact: true }).click();
    await first.getByRole('button', { name: 'Save my choices' }).click();
    await first.getByText('Saved: version 3.').waitFor();
    expect(await alice.getAnnotation(created.id)).toMatchObject({
      name: 'Two tabs, renamed',
      description: 'typed in the first tab',
      version: 3,
    });
  });
});
