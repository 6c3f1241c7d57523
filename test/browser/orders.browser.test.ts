import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../lib/client/api-client';
import { artifacts, textOf, useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();
let alice: ApiClient;

beforeAll(async () => {
  alice = api.client(await api.tokenFor('alice', 'sales'));
});

const twoLines = () =>
  alice.createOrder({
    customer: 'ACME',
    lines: [
      { sku: 'BOLT', quantity: 10, unitPrice: 25 },
      { sku: 'NUT', quantity: 10, unitPrice: 5 },
    ],
  });

const quantity = (page: Page, sku: string) => page.getByLabel(`Quantity of ${sku}`);
const price = (page: Page, sku: string) => page.getByLabel(`Unit price of ${sku}`);
const version = (page: Page, n: number) =>
  page.getByText(new RegExp(`^Version ${n}, last changed by`)).waitFor();

/** The conflict's rows: the field, what it was started from, what is stored, yours, and the row's kind. */
const conflictRows = (page: Page) =>
  page
    .locator('section.conflict tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [
        tr.className,
        ...['th', 'td.started', 'td.theirs', 'td.yours'].map((cell) => tr.querySelector(cell)?.textContent),
      ]),
    );

describe('an order in three windows (two sales users and a supervisor)', () => {
  it('a colleague’s saved quantity survives a later price change of the same line; untouched lines show what is stored after every save and re-apply', async () => {
    const order = await twoLines();
    const hash = `#/orders/${order.id}`;
    const [a, b] = await Promise.all([
      signedIn('alice', hash),
      signedIn('bob', hash, { poll: 600_000, live: false }),
    ]);
    await Promise.all([quantity(a, 'NUT').waitFor(), quantity(b, 'NUT').waitFor()]);

    // Bob saves a new BOLT quantity: version 2.
    await quantity(b, 'BOLT').fill('20');
    await b.getByRole('button', { name: 'Save BOLT' }).click();
    await b.getByText('Saved: version 2.').waitFor();

    // Alice's page shows version 2 by itself; she saves a new NUT quantity: version 3.
    await version(a, 2);
    expect(await quantity(a, 'BOLT').inputValue()).toBe('20');
    await quantity(a, 'NUT').fill('30');
    await a.getByRole('button', { name: 'Save NUT' }).click();
    await a.getByText('Saved: version 3.').waitFor();

    // Bob, still at version 2, changes NUT's price only.
    await price(b, 'NUT').fill('0.07');
    await b.getByRole('button', { name: 'Save NUT' }).click();
    await b.getByRole('region', { name: 'Conflict' }).waitFor();
    expect(await conflictRows(b)).toEqual([
      ['theirs', 'NUT quantity', '10', '30', ''],
      ['yours', 'NUT unit price', '0.05', '0.05', '0.07'],
    ]);
    expect(await textOf(b, 'section.conflict .summary')).toBe(
      'Saving writes NUT unit price over version 3; everything else stays as it is stored.',
    );
    // Untouched fields already show what is stored: Alice's 30.
    expect(await quantity(b, 'NUT').inputValue()).toBe('30');
    await b.screenshot({ path: join(artifacts, 'order-conflict.png'), fullPage: true });
    await b.getByRole('button', { name: 'Re-apply my changes to version 3' }).click();
    await b.getByText('Saved: version 4.').waitFor();
    // Alice's own save is told against the order as it is now, not as if it were the newest.
    await version(a, 4);
    expect(await a.locator('p.banner.ok').allTextContents()).toEqual([
      'Saved as version 3; changed by bob since (now version 4).',
    ]);
    expect([
      await quantity(b, 'NUT').inputValue(),
      await price(b, 'NUT').inputValue(),
      await quantity(b, 'BOLT').inputValue(),
    ]).toEqual(['30', '0.07', '20']);

    const stored = await alice.getOrder(order.id);
    expect([stored.version, stored.lines.map((line) => [line.sku, line.quantity, line.unitPrice])]).toEqual([
      4,
      [
        ['BOLT', 20, 25],
        ['NUT', 30, 7],
      ],
    ]);
  });

  it('an approval while a line is being edited: the conflict says what the state allows, and nothing can be re-applied', async () => {
    const order = await twoLines();
    const hash = `#/orders/${order.id}`;
    const [b, c] = await Promise.all([
      signedIn('bob', hash, { poll: 600_000, live: false }),
      signedIn('carol', hash),
    ]);
    await quantity(b, 'NUT').fill('40');
    await c.getByRole('button', { name: 'Move to approved' }).click();
    await c.getByText('Order approved: version 2.').waitFor();
    await b.getByRole('button', { name: 'Save NUT' }).click();
    await b.getByRole('region', { name: 'Conflict' }).waitFor();
    expect([
      await textOf(b, 'section.conflict .state'),
      await b.getByRole('button', { name: 'Re-apply my changes to version 2' }).isDisabled(),
    ]).toEqual(['It is now approved: its lines can no longer change. You may move it to: cancelled.', true]);
    await b.screenshot({ path: join(artifacts, 'order-approved-while-editing.png'), fullPage: true });
    const stored = await alice.getOrder(order.id);
    expect([stored.status, stored.version, stored.lines.map((line) => line.quantity)]).toEqual([
      'approved',
      2,
      [10, 10],
    ]);
  });

  it('a supervisor is offered the moves, not line or header inputs', async () => {
    const order = await twoLines();
    const c = await signedIn('carol', `#/orders/${order.id}`);
    await c.getByRole('button', { name: 'Move to approved' }).waitFor();
    expect([
      await quantity(c, 'BOLT').count(),
      await c.getByRole('button', { name: 'Add line' }).count(),
      await c.getByLabel('Customer').count(),
      await c.getByRole('button', { name: 'Move to cancelled' }).count(),
      await textOf(c, 'table[aria-label="Lines"] tbody tr td[data-label="Unit price (EUR)"]'),
    ]).toEqual([0, 0, 0, 1, '€0.25']);
  });

  it('a double-clicked “Add line” adds the line once; 12.50 typed is stored as 1250', async () => {
    const order = await alice.createOrder({ customer: 'Globex' });
    const a = await signedIn('alice', `#/orders/${order.id}`);
    await a.getByLabel('New line SKU').fill('WASHER');
    await a.getByLabel('Quantity', { exact: true }).fill('3');
    await a.getByLabel('Unit price (EUR)').fill('12.50');
    await a.getByRole('button', { name: 'Add line' }).dblclick();
    await a.getByText('Line WASHER added: version 2.').waitFor();
    await quantity(a, 'WASHER').waitFor();
    expect(await textOf(a, 'p.meta')).toBe('draft · total €37.50 · 1 line');
    const stored = await alice.getOrder(order.id);
    expect([stored.version, stored.lines.map((line) => [line.sku, line.quantity, line.unitPrice])]).toEqual([
      2,
      [['WASHER', 3, 1250]],
    ]);
  });

  it('the header: customer and notes are saved on their own; cancelling asks first and says what it means', async () => {
    const order = await twoLines();
    const a = await signedIn('alice', `#/orders/${order.id}`);
    await a.getByLabel('Notes').fill('Deliver before noon');
    await a.getByRole('button', { name: 'Save header' }).click();
    await a.getByText('Saved: version 2.').waitFor();
    await a.getByRole('button', { name: 'Move to cancelled' }).click();
    const dialog = a.getByRole('dialog', { name: 'Cancel this order?' });
    expect(await dialog.locator('p').textContent()).toBe(
      'Order for ACME, version 2, 2 lines, total €3.00: once cancelled it can never be edited or moved again.',
    );
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    expect((await alice.getOrder(order.id)).status).toBe('draft');
    await a.getByRole('button', { name: 'Move to cancelled' }).click();
    await dialog.getByRole('button', { name: 'Cancel the order' }).click();
    await a.getByText('Order cancelled: version 3.').waitFor();
    expect(await alice.getOrder(order.id)).toMatchObject({
      customer: 'ACME',
      notes: 'Deliver before noon',
      status: 'cancelled',
      version: 3,
    });
  });

  it('a line removed by a colleague while it was being changed: the change is shown, not silently dropped', async () => {
    const order = await twoLines();
    const b = await signedIn('bob', `#/orders/${order.id}`);
    await quantity(b, 'NUT').fill('40');
    const nut = order.lines.find((line) => line.sku === 'NUT');
    await alice.call('DELETE /orders/{id}/lines/{lineId}', {
      params: { id: order.id, lineId: nut?.lineId ?? '' },
      ifMatch: 1,
    });
    await b
      .getByText('Removed by someone since you changed it: NUT quantity 40.', { exact: false })
      .waitFor();
    expect(await quantity(b, 'NUT').count()).toBe(0);
    await b.getByRole('button', { name: 'Drop my changes to removed lines' }).click();
    await b.getByText(/^Unsaved work/).waitFor({ state: 'detached' });
  });
});
