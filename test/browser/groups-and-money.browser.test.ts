import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifacts, useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();

describe('a debtor: two departments at once', () => {
  it('customer relations and finance save different groups at once: both applied; a stale same-group save shows the stored group', async () => {
    const relations = api.client(await api.tokenFor('frank', 'customer-relations'));
    const created = await relations.call('POST /debtors', {
      body: { name: 'Müller GmbH', street: 'Main St 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
    });
    const hash = `#/debtors/${created.body.id}`;
    const [f, e, late] = await Promise.all([
      signedIn('frank', hash),
      signedIn('erin', hash),
      signedIn('frank', hash),
    ]);
    await Promise.all([f, e, late].map((page) => page.getByLabel('street').waitFor()));
    expect([
      await f.getByLabel('creditLimit').isDisabled(),
      await e.getByLabel('street').isDisabled(),
      await e.locator('fieldset[data-group="credit"] legend').textContent(),
    ]).toEqual([true, true, 'credit (yours)']);

    await f.getByLabel('street').fill('Side St 2');
    await e.getByLabel('creditLimit').fill('5000');
    await Promise.all([
      f.getByRole('button', { name: 'Save my groups' }).click(),
      e.getByRole('button', { name: 'Save my groups' }).click(),
    ]);
    await Promise.all([
      f.getByText('Saved: address applied.').waitFor(),
      e.getByText('Saved: credit applied.').waitFor(),
    ]);

    // A second customer-relations window, opened before both saves, changes the city.
    await late.getByLabel('city').fill('Hamburg');
    await late.getByRole('button', { name: 'Save my groups' }).click();
    const conflict = late.getByRole('region', { name: 'Conflict in address' });
    await conflict.waitFor();
    const rows = await conflict
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    expect(rows).toEqual([
      ['street', 'Side St 2', 'Side St 2'],
      ['city', 'Berlin', 'Hamburg'],
      ['postalCode', '10115', '10115'],
      ['country', 'DE', 'DE'],
    ]);
    expect(await late.getByRole('alert').textContent()).toBe(
      'Needs your decision: address changed since you opened it.',
    );
    expect(await late.getByLabel('creditLimit').inputValue()).toBe('5000');
    await late.screenshot({ path: join(artifacts, 'debtor-partial-conflict.png'), fullPage: true });
    // Keeping mine sends only the city: Frank's new street stays.
    await late.getByRole('button', { name: 'Keep mine for address' }).click();
    await late.getByText('Saved: address applied.').waitFor();

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
});

describe('an article: one save, two groups, one of them stale', () => {
  it('a sales user saves basic and sales; basic changed meanwhile: sales is applied, basic shows the stored description, take theirs keeps it', async () => {
    const grace = api.client(await api.tokenFor('grace', 'purchasing'));
    const sku = `SKU-${Date.now()}`;
    await grace.call('POST /articles', { body: { id: sku, description: 'Bolt M8', salesPrice: 100 } });
    const hash = `#/articles/${sku}`;
    const [alice, purchasing] = await Promise.all([signedIn('alice', hash), signedIn('grace', hash)]);
    await Promise.all([alice, purchasing].map((page) => page.getByLabel('description').waitFor()));
    // Alice (sales) owns basic and sales; the other groups are read-only for her.
    expect([
      await alice.getByLabel('salesPrice').isDisabled(),
      await alice.getByLabel('binLocation').isDisabled(),
      await alice.getByLabel('preferredSupplier').isDisabled(),
    ]).toEqual([false, true, true]);

    // Grace (purchasing, who owns basic too) saves a new description first.
    await purchasing.getByLabel('description').fill('Bolt M8 zinc');
    await purchasing.getByRole('button', { name: 'Save my groups' }).click();
    await purchasing.getByText('Saved: basic applied.').waitFor();

    // Alice, from the page she opened before, changes the description and the price.
    await alice.getByLabel('description').fill('Bolt M8 steel');
    await alice.getByLabel('salesPrice').fill('120');
    await alice.getByRole('button', { name: 'Save my groups' }).click();
    const conflict = alice.getByRole('region', { name: 'Conflict in basic' });
    await conflict.waitFor();
    expect([
      await alice.getByText('Saved: sales.').count(),
      await alice.getByRole('alert').textContent(),
      await conflict
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent))),
      await alice.getByLabel('salesPrice').inputValue(),
    ]).toEqual([
      1,
      'Needs your decision: basic changed since you opened it.',
      [['description', 'Bolt M8 zinc', 'Bolt M8 steel']],
      '120',
    ]);

    // Taking theirs writes nothing: the stored record is Grace's description, Alice's price.
    await alice.getByRole('button', { name: 'Take theirs for basic' }).click();
    await conflict.waitFor({ state: 'detached' });
    expect(await alice.getByLabel('description').inputValue()).toBe('Bolt M8 zinc');
    const stored = await grace.call('GET /articles/{id}', { params: { id: sku } });
    expect(
      'body' in stored && [stored.body.description, stored.body.salesPrice, stored.body.version],
    ).toEqual(['Bolt M8 zinc', 120, 3]);
  });
});

describe('an account: deposits, transfers and withdrawals apply once', () => {
  it('a double-clicked deposit, deposits whose answers were lost, a double-clicked transfer and withdrawal are each applied once; an uncovered withdrawal is refused', async () => {
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    const account = await finance.call('POST /accounts', { body: { name: 'Till', currency: 'EUR' } });
    const id = account.body.id;
    const page = await signedIn('erin', `#/accounts/${id}`);
    await page.getByLabel('Deposit amount').fill('100');
    await page.getByRole('button', { name: 'Deposit', exact: true }).dblclick();
    await page.getByText(/^Deposit of 100 applied/).waitFor();
    await page.locator('table[aria-label="Entries"] tbody tr').first().waitFor();

    // The next deposit reaches the server, but its answer is lost on the way back.
    let lost = 0;
    await page.route('**/deposits', async (route) => {
      if (lost > 0) return route.continue();
      lost += 1;
      await route.fetch();
      await route.abort('failed');
    });
    await page.getByLabel('Deposit amount').fill('50');
    await page.getByRole('button', { name: 'Deposit', exact: true }).click();
    await page
      .getByText('Deposit of 50 applied once: a retry was recognised as the same deposit. Balance 150.')
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
    await page.getByLabel('Deposit amount').fill('25');
    await page.getByRole('button', { name: 'Deposit', exact: true }).click();
    await page.getByRole('alert').waitFor();
    expect([
      aborted,
      await page.getByLabel('Deposit amount').isDisabled(),
      await page.getByRole('alert').textContent(),
    ]).toEqual([
      3,
      true,
      'The answer to the deposit of 25 was lost: it may have been applied. Retry sends the same deposit again; it is applied at most once.',
    ]);
    await page.unroute('**/deposits');
    await page.getByRole('button', { name: 'Retry deposit of 25' }).click();
    await page
      .getByText('Deposit of 25 applied once: a retry was recognised as the same deposit. Balance 175.')
      .waitFor();

    const entries = await finance.call('GET /accounts/{id}/entries', { params: { id } });
    const read = await finance.call('GET /accounts/{id}', { params: { id } });
    expect([
      lost,
      'body' in read && read.body.balance,
      'body' in entries && entries.body.items.map((entry) => entry.amount),
    ]).toEqual([1, 175, [25, 50, 100]]);

    // A transfer double-clicked: applied once, both balances moved once.
    const other = await finance.call('POST /accounts', { body: { name: 'Safe', currency: 'EUR' } });
    await page.getByLabel('To account').fill(other.body.id);
    await page.getByLabel('Transfer amount').fill('30');
    await page.getByRole('button', { name: 'Transfer', exact: true }).dblclick();
    await page.getByText('Transfer of 30 applied. Balance 145.').waitFor();
    const from = await finance.call('GET /accounts/{id}/entries', { params: { id } });
    const to = await finance.call('GET /accounts/{id}/entries', { params: { id: other.body.id } });
    expect([
      'body' in from && from.body.items.map((entry) => [entry.kind, entry.amount]),
      'body' in to && to.body.items.map((entry) => [entry.kind, entry.amount]),
    ]).toEqual([
      [
        ['transfer-out', -30],
        ['deposit', 25],
        ['deposit', 50],
        ['deposit', 100],
      ],
      [['transfer-in', 30]],
    ]);

    // A withdrawal the balance does not cover is refused and says why; nothing is written,
    // so the page forgets it. A double-clicked one is applied once.
    await page.getByLabel('Withdrawal amount').fill('500');
    await page.getByRole('button', { name: 'Withdrawal', exact: true }).click();
    await page.getByText('The balance does not cover this amount.').waitFor();
    expect(await page.getByRole('button', { name: /^Retry withdrawal/ }).count()).toBe(0);
    await page.getByLabel('Withdrawal amount').fill('45');
    await page.getByRole('button', { name: 'Withdrawal', exact: true }).dblclick();
    await page.getByText('Withdrawal of 45 applied. Balance 100.').waitFor();
    const after = await finance.call('GET /accounts/{id}/entries', { params: { id } });
    expect('body' in after && after.body.items.map((entry) => [entry.kind, entry.amount])).toEqual([
      ['withdrawal', -45],
      ['transfer-out', -30],
      ['deposit', 25],
      ['deposit', 50],
      ['deposit', 100],
    ]);
  });
});
