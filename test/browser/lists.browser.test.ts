import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();

/** The names (first column) the list shows after searching for `word`. */
const found = async (page: Page, table: string, searchLabel: string, word: string, expected: string) => {
  await page.getByLabel(searchLabel).fill(word);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText(`Found for “${word}”:`).waitFor();
  const list = page.getByRole('table', { name: table });
  await list.getByRole('link', { name: expected }).waitFor();
  return list.locator('tbody tr td:first-child').allTextContents();
};

describe('every resource has a list that finds a record by a word of its name', () => {
  it('annotations, orders, debtors, articles and accounts', async () => {
    const tag = Date.now().toString(36).toUpperCase();
    const sales = api.client(await api.tokenFor('alice', 'sales'));
    const relations = api.client(await api.tokenFor('frank', 'customer-relations'));
    const purchasing = api.client(await api.tokenFor('grace', 'purchasing'));
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    await sales.createAnnotation({ name: `Mitosis ${tag}` });
    await sales.createAnnotation({ name: `Meiosis ${tag}` });
    await sales.createOrder({ customer: `Acme Rockets ${tag}` });
    await sales.createOrder({ customer: `Globex ${tag}` });
    await relations.call('POST /debtors', { body: { name: `Schmidt AG ${tag}` } });
    await relations.call('POST /debtors', { body: { name: `Weber KG ${tag}` } });
    await purchasing.call('POST /articles', { body: { id: `WN-${tag}`, description: 'Wing nut' } });
    await purchasing.call('POST /articles', { body: { id: `HB-${tag}`, description: 'Hex bolt' } });
    await finance.call('POST /accounts', { body: { name: `Petty cash ${tag}`, currency: 'EUR' } });
    await finance.call('POST /accounts', { body: { name: `Main till ${tag}`, currency: 'EUR' } });

    const page = await signedIn('erin', '#/annotations');
    expect(
      await found(page, 'Annotations', 'Search annotations by name', `mitosis ${tag}`, `Mitosis ${tag}`),
    ).toEqual([`Mitosis ${tag}`]);
    await page.getByRole('link', { name: 'Orders', exact: true }).click();
    expect(
      await found(page, 'Orders', 'Search orders by customer', `ROCKETS ${tag}`, `Acme Rockets ${tag}`),
    ).toEqual([`Acme Rockets ${tag}`]);
    await page.getByRole('link', { name: 'Debtors', exact: true }).click();
    expect(
      await found(page, 'Debtors', 'Search debtors by name', `schmidt ag ${tag}`, `Schmidt AG ${tag}`),
    ).toEqual([`Schmidt AG ${tag}`]);
    await page.getByRole('link', { name: 'Articles', exact: true }).click();
    expect(
      await found(page, 'Articles', 'Search articles by SKU or description', `wn-${tag}`, `WN-${tag}`),
    ).toEqual([`WN-${tag}`]);
    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    expect(
      await found(page, 'Accounts', 'Search accounts by name', `petty cash ${tag}`, `Petty cash ${tag}`),
    ).toEqual([`Petty cash ${tag}`]);
    // A row opens its record.
    await page.getByRole('link', { name: `Petty cash ${tag}` }).click();
    await page.getByRole('heading', { name: `Account Petty cash ${tag}` }).waitFor();
  });

  it('a list shows what others create while it is open, with when and by whom', async () => {
    const tag = Date.now().toString(36);
    const page = await signedIn('bob', '#/annotations');
    await page.getByRole('table', { name: 'Annotations' }).waitFor();
    const sales = api.client(await api.tokenFor('alice', 'sales'));
    await sales.createAnnotation({ name: `Arrived ${tag}` });
    const row = page.getByRole('row', { name: new RegExp(`Arrived ${tag}`) });
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual([
      `Arrived ${tag}`,
      '',
      expect.stringMatching(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M$/),
      'alice',
      '1',
    ]);
  });

  it("the orders list shows each order's total, and a colleague's new line changes it while the list is open", async () => {
    const tag = Date.now().toString(36).toUpperCase();
    const sales = api.client(await api.tokenFor('alice', 'sales'));
    const order = await sales.createOrder({
      customer: `Totals ${tag}`,
      lines: [
        { sku: 'NUT', quantity: 2, unitPrice: 150 },
        { sku: 'BOLT', quantity: 1, unitPrice: 1000 },
      ],
    });
    const page = await signedIn('bob', '#/orders');
    await found(page, 'Orders', 'Search orders by customer', `totals ${tag}`, `Totals ${tag}`);
    const row = page
      .getByRole('table', { name: 'Orders' })
      .getByRole('row', { name: new RegExp(`Totals ${tag}`) });
    const cells = async () => (await row.locator('td').allTextContents()).slice(0, 4);
    expect(await cells()).toEqual([`Totals ${tag}`, 'draft', '2', '€13.00']);
    await sales.addLine(order.id, order.version, { sku: 'WASHER', quantity: 4, unitPrice: 5 });
    await row.locator('td', { hasText: '€13.20' }).waitFor();
    expect(await cells()).toEqual([`Totals ${tag}`, 'draft', '3', '€13.20']);
  });

  it('every create form, double-clicked, creates one record and opens it', async () => {
    const tag = Date.now().toString(36).toUpperCase();
    const forms: [string, string, [string, string][], string, string][] = [
      [
        'alice',
        '#/annotations',
        [['New annotation name', `Twice ${tag}`]],
        'Create',
        `Annotation “Twice ${tag}”`,
      ],
      [
        'alice',
        '#/orders',
        [['New order for customer', `Twice ${tag}`]],
        'Create order',
        `Order for Twice ${tag}`,
      ],
      ['frank', '#/debtors', [['New debtor name', `Twice ${tag}`]], 'Create', `Debtor Twice ${tag}`],
      [
        'grace',
        '#/articles',
        [
          ['New SKU', `tw-${tag}`],
          ['Description', `Twice ${tag}`],
        ],
        'Create',
        `Article TW-${tag}`,
      ],
      ['erin', '#/accounts', [['New account name', `Twice ${tag}`]], 'Open account', `Account Twice ${tag}`],
    ];
    for (const [user, hash, fields, button, heading] of forms) {
      const page = await signedIn(user, hash);
      for (const [label, text] of fields) await page.getByLabel(label, { exact: true }).fill(text);
      await page.getByRole('button', { name: button, exact: true }).dblclick();
      await page.getByRole('heading', { name: heading }).waitFor();
      await page.context().close();
    }
    const token = await api.tokenFor('auditor', 'finance');
    const counts = await Promise.all(
      ['annotations', 'orders', 'debtors', 'articles', 'accounts'].map(async (list) => {
        const answer = await api.call(
          'GET',
          `/${list}?limit=100&q=${encodeURIComponent(tag.toLowerCase())}`,
          { token },
        );
        return [list, answer.body.items.length];
      }),
    );
    expect(counts).toEqual([
      ['annotations', 1],
      ['orders', 1],
      ['debtors', 1],
      ['articles', 1],
      ['accounts', 1],
    ]);
  });
});
