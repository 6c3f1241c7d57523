import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifacts, textOf, useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();

describe('an order in three windows (two sales users and a supervisor)', () => {
  it('different lines: Bob sees Alice’s line in the conflict and re-applies his; an approval while he edits is shown, nothing lost', async () => {
    const alice = api.client(await api.tokenFor('alice', 'sales'));
    const order = await alice.createOrder({
      customer: 'ACME',
      lines: [
        { sku: 'BOLT', quantity: 10, unitPrice: 25 },
        { sku: 'NUT', quantity: 10, unitPrice: 5 },
      ],
    });
    const hash = `#/orders/${order.id}`;
    const [a, b] = await Promise.all([signedIn('alice', hash), signedIn('bob', hash)]);
    await Promise.all([
      a.getByLabel('Quantity of BOLT').waitFor(),
      b.getByLabel('Quantity of NUT').waitFor(),
    ]);

    // Alice and Bob edit different lines from version 1; Alice saves first.
    await a.getByLabel('Quantity of BOLT').fill('20');
    await a.getByRole('button', { name: 'Save BOLT' }).click();
    await a.getByText('Saved: version 2.').waitFor();
    await b.getByLabel('Quantity of NUT').fill('30');
    await b.getByRole('button', { name: 'Save NUT' }).click();
    const conflict = b.getByRole('region', { name: 'Conflict' });
    await conflict.waitFor();
    const rows = await conflict
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    expect(rows).toEqual([
      ['BOLT', 'BOLT: 10 × 25', 'BOLT: 20 × 25', ''],
      ['NUT', 'NUT: 10 × 5', 'NUT: 10 × 5', 'NUT: 30 × 5'],
    ]);
    await b.screenshot({ path: join(artifacts, 'order-conflict.png'), fullPage: true });
    await b.getByRole('button', { name: 'Re-apply my change to version 2' }).click();
    await b.getByText('Saved: version 3.').waitFor();

    // Carol approves while Bob has another line edit open.
    const c = await signedIn('carol', hash);
    await b.getByLabel('Quantity of NUT').fill('40');
    await c.getByRole('button', { name: 'Move to approved' }).click();
    await c.getByText('Order approved: version 4.').waitFor();
    await b.getByRole('button', { name: 'Save NUT' }).click();
    await b.getByRole('region', { name: 'Conflict' }).waitFor();
    expect(await textOf(b, 'section.conflict .state')).toBe(
      'It is now approved: its lines can no longer change. You may move it to: cancelled.',
    );
    expect(await b.getByRole('button', { name: 'Re-apply my change to version 4' }).isDisabled()).toBe(true);
    await b.screenshot({ path: join(artifacts, 'order-approved-while-editing.png'), fullPage: true });

    const stored = await alice.getOrder(order.id);
    expect([stored.status, stored.version, stored.lines.map((line) => [line.sku, line.quantity])]).toEqual([
      'approved',
      4,
      [
        ['BOLT', 20],
        ['NUT', 30],
      ],
    ]);
  });
});
