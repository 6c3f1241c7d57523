import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { artifacts, useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();

/** Controls on the page without an accessible name: a label, aria-label, or a button's text. */
const unlabelled = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('input, textarea, select, button')]
      .filter((control) => {
        const labels = (control as HTMLInputElement).labels;
        const named =
          control.getAttribute('aria-label') || (control.tagName === 'BUTTON' && control.textContent?.trim());
        return !named && !(labels && labels.length > 0);
      })
      .map((control) => control.outerHTML),
  );

describe('the main pages', () => {
  it('sign-in works from the keyboard alone, and the user’s name and roles stay visible', async () => {
    const page = await signedIn('alice', '#/annotations');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as bob').waitFor();
    expect(await page.locator('header .who').textContent()).toBe('Signed in as bob (sales) Sign out');
  });

  it('every page has labelled controls; a screenshot of each is left for the README', async () => {
    const sales = api.client(await api.tokenFor('alice', 'sales'));
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    const relations = api.client(await api.tokenFor('frank', 'customer-relations'));
    const annotation = await sales.createAnnotation({
      name: 'Cell 4',
      description: 'mitosis',
      tags: ['draft'],
    });
    const order = await sales.createOrder({
      customer: 'ACME',
      lines: [{ sku: 'BOLT', quantity: 10, unitPrice: 25 }],
    });
    const debtor = await relations.call('POST /debtors', { body: { name: 'Müller GmbH', city: 'Berlin' } });
    const account = await finance.call('POST /accounts', { body: { name: 'Till', currency: 'EUR' } });
    const pages: [string, string, string][] = [
      ['alice', '#/annotations', 'annotations'],
      ['alice', `#/annotations/${annotation.id}`, 'annotation'],
      ['alice', `#/orders/${order.id}`, 'order'],
      ['frank', `#/debtors/${debtor.body.id}`, 'debtor'],
      ['erin', `#/accounts/${account.body.id}`, 'account'],
    ];
    const found: Record<string, string[]> = {};
    for (const [user, hash, name] of pages) {
      const page = await signedIn(user, hash);
      await page.locator('main h1').waitFor();
      await page.locator('main input, main button').first().waitFor();
      found[name] = await unlabelled(page);
      await page.screenshot({ path: join(artifacts, `page-${name}.png`), fullPage: true });
    }
    expect(found).toEqual({ annotations: [], annotation: [], order: [], debtor: [], account: [] });
  });
});
