import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifacts, textOf, useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();

/** The rows of a conflict section: field, started from, stored now, yours. */
const conflictRows = (section: ReturnType<import('playwright-core').Page['getByRole']>) =>
  section
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) =>
        ['th', 'td.started', 'td.theirs', 'td.yours'].map((cell) => tr.querySelector(cell)?.textContent),
      ),
    );

describe('a debtor: two departments at once', () => {
  it('customer relations and finance save different groups at once: both applied; a stale same-group save shows started from, stored now and yours', async () => {
    const relations = api.client(await api.tokenFor('frank', 'customer-relations'));
    const created = await relations.call('POST /debtors', {
      body: { name: 'Müller GmbH', street: 'Main St 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
    });
    const hash = `#/debtors/${created.body.id}`;
    const [f, e, late] = await Promise.all([
      signedIn('frank', hash),
      signedIn('erin', hash),
      signedIn('frank', hash, { poll: 600_000, live: false }),
    ]);
    await Promise.all([
      f.getByLabel('Street').waitFor(),
      e.getByLabel('Credit limit').waitFor(),
      late.getByLabel('City').waitFor(),
    ]);
    // Each sees inputs only for the groups they own; the others as stored.
    expect([
      await f.getByLabel('Credit limit').count(),
      await e.getByLabel('Street').count(),
      await e.locator('fieldset[data-group="credit"] legend').textContent(),
      await e.locator('fieldset[data-group="address"] dd').first().textContent(),
    ]).toEqual([0, 0, 'Credit (yours)', 'Main St 1']);

    await f.getByLabel('Street').fill('Side St 2');
    await e.getByLabel('Credit limit').fill('50');
    await Promise.all([
      f.getByRole('button', { name: 'Save my groups' }).click(),
      e.getByRole('button', { name: 'Save my groups' }).click(),
    ]);
    await Promise.all([
      f.getByText('Saved: Address applied.').waitFor(),
      e.getByText('Saved: Credit applied.').waitFor(),
    ]);

    // A second customer-relations window, opened before both saves, changes the city.
    await late.getByLabel('City').fill('Hamburg');
    await late.getByRole('button', { name: 'Save my groups' }).click();
    const conflict = late.getByRole('region', { name: 'Conflict in Address' });
    await conflict.waitFor();
    expect([
      await conflictRows(conflict),
      await conflict.locator('.summary').textContent(),
      await late.getByRole('alert').first().textContent(),
      await late.locator('fieldset[data-group="credit"] dd').first().textContent(),
    ]).toEqual([
      [
        ['Street', 'Main St 1', 'Side St 2', ''],
        ['City', 'Berlin', 'Berlin', 'Hamburg'],
      ],
      expect.stringMatching(/^Saving writes City over version 3;/),
      'Needs your decision: Address changed since you opened it.',
      '€50.00',
    ]);
    await late.screenshot({ path: join(artifacts, 'debtor-partial-conflict.png'), fullPage: true });
    // Keeping mine sends only the city: Frank's new street stays.
    await late.getByRole('button', { name: 'Keep mine for Address' }).click();
    await late.getByText('Saved: Address applied.').waitFor();

    const stored = await relations.call('GET /debtors/{id}', { params: { id: created.body.id } });
    expect(
      'body' in stored && [
        stored.body.street,
        stored.body.city,
        stored.body.creditLimit,
        stored.body.version,
      ],
    ).toEqual(['Side St 2', 'Hamburg', 5000, 4]);
  });

  it('a posting (finance) applies once when double-clicked; the balance is shown in euros', async () => {
    const relations = api.client(await api.tokenFor('frank', 'customer-relations'));
    const created = await relations.call('POST /debtors', { body: { name: 'Posting GmbH' } });
    const e = await signedIn('erin', `#/debtors/${created.body.id}`);
    await e.getByLabel('Posting amount (EUR)').fill('-125.50');
    await e.getByLabel('Reference').fill('INV-1');
    await e.getByRole('button', { name: 'Post' }).dblclick();
    await e.getByText('Posting INV-1 applied. Balance -€125.50.').waitFor();
    await e.getByText('Balance -€125.50', { exact: true }).waitFor();
    const stored = await relations.call('GET /debtors/{id}', { params: { id: created.body.id } });
    expect('body' in stored && stored.body.balance).toBe(-12550);
  });
});

describe('an article: one save, two groups, one of them stale', () => {
  it('a sales user saves basic and sales; basic changed meanwhile: sales is applied, basic shows the collision, take theirs keeps it', async () => {
    const grace = api.client(await api.tokenFor('grace', 'purchasing'));
    const sku = `SKU-${Date.now()}`;
    await grace.call('POST /articles', { body: { id: sku, description: 'Bolt M8', salesPrice: 100 } });
    const hash = `#/articles/${sku}`;
    const [alice, purchasing] = await Promise.all([
      signedIn('alice', hash, { poll: 600_000, live: false }),
      signedIn('grace', hash),
    ]);
    await Promise.all([alice, purchasing].map((page) => page.getByLabel('Description').waitFor()));
    // Alice (sales) owns basic and sales; the other groups are shown, not offered.
    expect([
      await alice.getByLabel('Sales price').inputValue(),
      await alice.getByLabel('Bin location').count(),
      await alice.getByLabel('Preferred supplier').count(),
    ]).toEqual(['1.00', 0, 0]);

    // Grace (purchasing, who owns basic too) saves a new description first.
    await purchasing.getByLabel('Description').fill('Bolt M8 zinc');
    await purchasing.getByRole('button', { name: 'Save my groups' }).click();
    await purchasing.getByText('Saved: Basic applied.').waitFor();

    // Alice, from the page she opened before, changes the description and the price.
    await alice.getByLabel('Description').fill('Bolt M8 steel');
    await alice.getByLabel('Sales price').fill('1.20');
    await alice.getByRole('button', { name: 'Save my groups' }).click();
    const conflict = alice.getByRole('region', { name: 'Conflict in Basic' });
    await conflict.waitFor();
    expect([
      await alice.getByText('Saved: Sales.').count(),
      await conflictRows(conflict),
      await conflict.locator('tr.collision').count(),
      await alice.getByLabel('Sales price').inputValue(),
    ]).toEqual([1, [['Description', 'Bolt M8', 'Bolt M8 zinc', 'Bolt M8 steel']], 1, '1.20']);

    // Taking theirs writes nothing: the stored record is Grace's description, Alice's price.
    await alice.getByRole('button', { name: 'Take theirs for Basic' }).click();
    await conflict.waitFor({ state: 'detached' });
    expect(await alice.getByLabel('Description').inputValue()).toBe('Bolt M8 zinc');
    const stored = await grace.call('GET /articles/{id}', { params: { id: sku } });
    expect(
      'body' in stored && [stored.body.description, stored.body.salesPrice, stored.body.version],
    ).toEqual(['Bolt M8 zinc', 120, 3]);
  });

  it('a stock movement (warehouse) applies once when double-clicked; below zero is refused with the stock shown', async () => {
    const grace = api.client(await api.tokenFor('grace', 'purchasing'));
    const sku = `STOCK-${Date.now()}`;
    await grace.call('POST /articles', { body: { id: sku, description: 'Nut M8' } });
    const dave = await signedIn('dave', `#/articles/${sku}`);
    await dave.getByLabel('Stock change').fill('12');
    await dave.getByLabel('Reason').fill('delivery');
    await dave.getByRole('button', { name: 'Move stock' }).dblclick();
    await dave.getByText('Stock movement (delivery) applied. In stock: 12.').waitFor();
    await dave.getByLabel('Stock change').fill('-20');
    await dave.getByLabel('Reason').fill('picking');
    await dave.getByRole('button', { name: 'Move stock' }).click();
    await dave.getByRole('alert').waitFor();
    const stored = await grace.call('GET /articles/{id}', { params: { id: sku } });
    expect([await dave.getByRole('alert').textContent(), 'body' in stored && stored.body.inStock]).toEqual([
      'Refused: only 12 in stock. Nothing was moved.',
      12,
    ]);
  });
});

describe('an account: money in euros, applied once', () => {
  it('420 minor units show as €4.20; a double-clicked 12.50, deposits whose answers were lost, a double-clicked transfer and withdrawal are each applied once', async () => {
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    const account = await finance.call('POST /accounts', { body: { name: 'Till', currency: 'EUR' } });
    const id = account.body.id;
    await finance.call('POST /accounts/{id}/deposits', {
      params: { id },
      body: { amount: 420 },
      idempotencyKey: `${id}-0`,
    });
    const page = await signedIn('erin', `#/accounts/${id}`);
    await page.getByText('€4.20', { exact: true }).first().waitFor();
    expect(await textOf(page, '.balance')).toBe('€4.20');

    await page.getByLabel('Deposit amount (EUR)').fill('12.50');
    await page.getByRole('button', { name: 'Deposit', exact: true }).dblclick();
    await page.getByText('Deposit of €12.50 applied. Balance €16.70.').waitFor();

    // The next deposit reaches the server, but its answer is lost on the way back.
    let lost = 0;
    await page.route('**/deposits', async (route) => {
      if (lost > 0) return route.continue();
      lost += 1;
      await route.fetch();
      await route.abort('failed');
    });
    await page.getByLabel('Deposit amount (EUR)').fill('0.50');
    await page.getByRole('button', { name: 'Deposit', exact: true }).click();
    await page
      .getByText(
        'Deposit of €0.50 applied once: a repeat was recognised as the same deposit. Balance €17.20.',
      )
      .waitFor();
    await page.screenshot({ path: join(artifacts, 'account-applied-once.png'), fullPage: true });

    // Every send of the next deposit is answered by the server and lost on the way back: the
    // page keeps the key and the amount, offers only that retry, and the retry applies once.
    let aborted = 0;
    await page.unroute('**/deposits');
    await page.route('**/deposits', async (route) => {
      aborted += 1;
      await route.fetch();
      await route.abort('failed');
    });
    await page.getByLabel('Deposit amount (EUR)').fill('0.25');
    await page.getByRole('button', { name: 'Deposit', exact: true }).click();
    await page.getByRole('alert').waitFor();
    expect([
      aborted,
      await page.getByLabel('Deposit amount (EUR)').isDisabled(),
      await page.getByRole('alert').textContent(),
    ]).toEqual([
      3,
      true,
      'Not sure it was applied: its answer was lost on the way. Send it again: it is the same request, applied at most once.',
    ]);
    await page.unroute('**/deposits');
    await page.getByRole('button', { name: 'Send the deposit again' }).click();
    await page
      .getByText(
        'Deposit of €0.25 applied once: a repeat was recognised as the same deposit. Balance €17.45.',
      )
      .waitFor();

    const amounts = async (accountId: string) => {
      const entries = await finance.call('GET /accounts/{id}/entries', { params: { id: accountId } });
      return 'body' in entries ? entries.body.items.map((entry) => [entry.kind, entry.amount]) : [];
    };
    expect([lost, await amounts(id)]).toEqual([
      1,
      [
        ['deposit', 25],
        ['deposit', 50],
        ['deposit', 1250],
        ['deposit', 420],
      ],
    ]);

    // A transfer double-clicked: applied once, both balances moved once.
    const other = await finance.call('POST /accounts', { body: { name: 'Safe', currency: 'EUR' } });
    await page.getByLabel('To account').fill(other.body.id);
    await page.getByLabel('Transfer amount (EUR)').fill('0.30');
    await page.getByRole('button', { name: 'Transfer', exact: true }).dblclick();
    await page.getByText('Transfer of €0.30 applied. Balance €17.15.').waitFor();
    expect(await amounts(other.body.id)).toEqual([['transfer-in', 30]]);

    // A withdrawal the balance does not cover is refused, says why, and shows the balance it
    // carries; nothing is written, so the page forgets it. A double-clicked one is applied once.
    await page.getByLabel('Withdrawal amount (EUR)').fill('500');
    await page.getByRole('button', { name: 'Withdrawal', exact: true }).click();
    await page.getByText('The balance does not cover this amount.').waitFor();
    expect(await page.getByRole('button', { name: /^Send the withdrawal again/ }).count()).toBe(0);
    await page.getByLabel('Withdrawal amount (EUR)').fill('0.45');
    await page.getByRole('button', { name: 'Withdrawal', exact: true }).dblclick();
    await page.getByText('Withdrawal of €0.45 applied. Balance €16.70.').waitFor();
    expect((await amounts(id)).slice(0, 2)).toEqual([
      ['withdrawal', -45],
      ['transfer-out', -30],
    ]);
  });
});
