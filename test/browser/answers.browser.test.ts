import type { Route } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../lib/client/api-client';
import { useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();
let alice: ApiClient;

beforeAll(async () => {
  alice = api.client(await api.tokenFor('alice', 'sales'));
});

const outcomeUnknown = (route: Route) =>
  route.fulfill({
    status: 503,
    headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
    json: {
      type: 'https://no-lost-updates.dev/problems/outcome-unknown',
      title: 'Outcome unknown',
      status: 503,
      detail: 'The request may or may not have been applied.',
      code: 'OUTCOME_UNKNOWN',
      requestId: 'stub',
    },
  });

describe('what an answer says, the page says', () => {
  it('OUTCOME_UNKNOWN on a save: “not sure it was saved”, the fields it sent frozen; sent again under its key it is applied once', async () => {
    const created = await alice.createAnnotation({ name: 'Unknown' });
    const b = await signedIn('bob', `#/annotations/${created.id}`);
    await b.getByLabel('Name', { exact: true }).fill('Bob’s name');
    // The first send is applied, and every answer to it (and to the client's own resends) is 503 OUTCOME_UNKNOWN.
    const keys: string[] = [];
    await b.route('**/annotations/*', async (route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (keys.length === 1) await route.fetch();
      return outcomeUnknown(route);
    });
    await b.getByRole('button', { name: 'Save', exact: true }).click();
    await b.getByText(/^Not sure it was saved: the server could not tell whether it was applied\./).waitFor();
    expect([
      await b.getByLabel('Name', { exact: true }).isDisabled(),
      await b.getByText('Not sure your last save was applied.', { exact: false }).count(),
    ]).toEqual([true, 1]);
    await b.unroute('**/annotations/*');
    // A reload keeps the unanswered save, its key with it.
    b.on('dialog', (dialog) => void dialog.accept());
    await b.reload();
    await b.getByText('Not sure your last save was applied.', { exact: false }).waitFor();
    const sent: string[] = [];
    b.on('request', (request) => {
      if (request.method() === 'PATCH') sent.push(request.headers()['idempotency-key'] ?? '');
    });
    await b.getByRole('button', { name: 'Send it again' }).click();
    await b
      .getByText('Saved: version 2 (your earlier send had been applied; it was not applied twice).')
      .waitFor();
    expect([
      new Set(keys).size,
      sent.every((key) => key === keys[0]),
      await alice.getAnnotation(created.id),
    ]).toEqual([1, true, expect.objectContaining({ name: 'Bob’s name', version: 2 })]);
  });

  it('a save answered with Applied-Version: “saved as version 2; changed by alice since”, and the page shows the record as it is now', async () => {
    const created = await alice.createAnnotation({ name: 'Applied', description: 'd0' });
    const b = await signedIn('bob', `#/annotations/${created.id}`, { poll: 600_000, live: false });
    await b.getByLabel('Name', { exact: true }).fill('Bob’s name');
    // The save is applied as version 2; before its answer arrives, Alice writes version 3.
    await b.route('**/annotations/*', async (route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      const response = await route.fetch();
      const now = await alice.patchAnnotation(created.id, 2, { description: 'alice, later' });
      return route.fulfill({
        status: 200,
        headers: { ...response.headers(), etag: `"${now.version}"`, 'applied-version': '2' },
        json: now,
      });
    });
    await b.getByRole('button', { name: 'Save', exact: true }).click();
    await b.getByText('Saved as version 2; changed by alice since (now version 3).').waitFor();
    expect([
      await b.getByLabel('Description').inputValue(),
      await b.getByLabel('Name', { exact: true }).inputValue(),
    ]).toEqual(['alice, later', 'Bob’s name']);
  });

  it('a line added to an order changed meanwhile is not added until the person says so, then once', async () => {
    const order = await alice.createOrder({
      customer: 'Stale',
      lines: [{ sku: 'BOLT', quantity: 1, unitPrice: 25 }],
    });
    const b = await signedIn('bob', `#/orders/${order.id}`, { poll: 600_000, live: false });
    await b.getByLabel('New line SKU').fill('WASHER');
    await b.getByLabel('Unit price (EUR)').fill('0.10');
    await alice.addLine(order.id, 1, { sku: 'NUT', quantity: 2, unitPrice: 5 });
    await b.getByRole('button', { name: 'Add line' }).click();
    await b
      .getByText(
        'Not added yet: alice changed the order since you looked (now version 2; the lines above show it). Add it to version 2?',
      )
      .waitFor();
    expect(await b.getByLabel('Quantity of NUT').inputValue()).toBe('2');
    await b.getByRole('button', { name: 'Add line' }).click();
    await b.getByText('Line WASHER added: version 3.').waitFor();
    const stored = await alice.getOrder(order.id);
    expect(stored.lines.map((line) => [line.sku, line.unitPrice])).toEqual([
      ['BOLT', 25],
      ['NUT', 5],
      ['WASHER', 10],
    ]);
  });

  it('field errors are said beside their fields: the API’s (by pointer) and an amount that is not one (nothing sent)', async () => {
    const order = await alice.createOrder({
      customer: 'Errors',
      lines: [{ sku: 'NUT', quantity: 1, unitPrice: 5 }],
    });
    const a = await signedIn('alice', `#/orders/${order.id}`);
    await a.getByLabel('Unit price of NUT').fill('1.234');
    await a.getByRole('button', { name: 'Save NUT' }).click();
    const priceError = a.locator(
      '.field:has(input[aria-label], label:has-text("Unit price of NUT")) .field-error',
    );
    await priceError.waitFor();
    expect([
      await priceError.textContent(),
      await a.getByLabel('Unit price of NUT').getAttribute('aria-invalid'),
    ]).toEqual(['EUR amounts have at most 2 decimals.', 'true']);
    await a.getByLabel('Unit price of NUT').fill('0.05');
    await a.getByLabel('Quantity of NUT').fill('0');
    await a.getByRole('button', { name: 'Save NUT' }).click();
    const quantityError = a.locator('.field:has(label:has-text("Quantity of NUT")) .field-error');
    await quantityError.waitFor();
    expect([
      await quantityError.textContent(),
      await a.getByRole('alert').first().textContent(),
      (await alice.getOrder(order.id)).version,
    ]).toEqual(['Must be at least 1.', 'Not saved: see the fields marked.', 1]);
  });
});
