import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../lib/client/api-client';
import { artifacts, rowsOf, textOf, useBrowser } from '../support/browser';

/**
 * Changes, locks and presence pushed to the people who have a record open. Pages that must
 * learn by push poll only every 10 minutes (`poll: 600_000`): whatever they show within a
 * test's minute came through the live channel, never by polling.
 */
const { api, signedIn } = useBrowser();
const PUSH_ONLY = { poll: 600_000 };
let alice: ApiClient;
let bob: ApiClient;

beforeAll(async () => {
  alice = api.client(await api.tokenFor('alice', 'sales'));
  bob = api.client(await api.tokenFor('bob', 'sales'));
});

const live = async (page: Page) => page.locator('.live-status[data-status="live"]').waitFor();
const presence = (page: Page) => page.locator('p.presence');

describe('a colleague’s work, as it happens', () => {
  it('Alice sees Bob open the record, start editing, save (what changed, with its new value), take the lock, and leave; her list shows it too', async () => {
    const created = await alice.createAnnotation({ name: 'Shared', description: 'before' });
    const hash = `#/annotations/${created.id}`;
    const a = await signedIn('alice', hash, PUSH_ONLY);
    const list = await signedIn('carol', '#/annotations', PUSH_ONLY);
    await Promise.all([live(a), live(list)]);
    const row = list.getByRole('table', { name: 'Annotations' }).locator('tbody tr', { hasText: 'Shared' });
    await row.waitFor();

    const b = await signedIn('bob', hash, PUSH_ONLY);
    await presence(a).getByText('Also here: bob is viewing').waitFor();
    await row.getByText('(alice is viewing, bob is viewing)').waitFor();
    await b.getByLabel('Description').fill('written by bob');
    await presence(a).getByText('Also here: bob is editing').waitFor();
    await row.getByText('(alice is viewing, bob is editing)').waitFor();

    await b.getByRole('button', { name: 'Save', exact: true }).click();
    const note = a.locator('.banner.live-change');
    await note.waitFor();
    expect([await note.locator('p').textContent(), await a.getByLabel('Description').inputValue()]).toEqual([
      expect.stringMatching(/^bob changed this at .+ \(version 1 → 2\): description “written by bob”\.$/),
      'written by bob',
    ]);
    await row.locator('td[data-label="Version"]', { hasText: '2' }).waitFor();
    await a.screenshot({ path: join(artifacts, 'live-change.png'), fullPage: true });

    await b.getByRole('button', { name: 'Edit with lock' }).click();
    await a.getByText(/^Locked by bob until/).waitFor();
    await b.getByRole('button', { name: 'Release lock' }).click();
    await a.getByRole('button', { name: 'Edit with lock' }).waitFor();

    await b.context().close();
    await presence(a).waitFor({ state: 'detached' });
    await row.getByText('(alice is viewing)').waitFor();
    expect(await rowsOf(list, 'table[aria-label="Annotations"] tbody tr')).toContainEqual([
      'Shared (alice is viewing)',
      '',
      expect.any(String),
      'bob',
      '2',
    ]);
  });

  it('with unsaved edits, Alice is offered the merge as soon as Bob saves, and merges before saving', async () => {
    const created = await alice.createAnnotation({ name: 'Draft', tags: ['x'] });
    const a = await signedIn('alice', `#/annotations/${created.id}`, PUSH_ONLY);
    await live(a);
    await a.getByLabel('Name', { exact: true }).fill('Draft (alice)');

    await bob.patchAnnotation(created.id, 1, { name: 'Draft (bob)', tags: ['y'] });
    const offer = a.locator('.changed-since');
    await offer.getByRole('button', { name: 'Merge now' }).waitFor();
    expect(await offer.locator('p').textContent()).toMatch(
      /^Changed by bob at .+ since you started editing \(version 1 → 2\)\./,
    );
    await offer.getByRole('button', { name: 'Merge now' }).click();
    const conflict = a.getByRole('region', { name: 'Conflict' });
    await conflict.waitFor();
    expect(
      await conflict
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-field'), tr.className])),
    ).toEqual([
      ['name', 'collision'],
      ['tags', 'theirs'],
    ]);
    await a.screenshot({ path: join(artifacts, 'live-merge-now.png'), fullPage: true });
    await conflict.getByRole('button', { name: 'Save my choices' }).click();
    await a.getByText('Saved: version 3.').waitFor();
    expect(await alice.getAnnotation(created.id)).toMatchObject({
      name: 'Draft (alice)',
      tags: ['y'],
      version: 3,
    });
  });

  it("an order's lines and a debtor's balance change on the open pages as they are saved", async () => {
    const order = await alice.createOrder({
      customer: 'Live Ltd',
      lines: [{ sku: 'BOLT', quantity: 1, unitPrice: 100 }],
    });
    const relations = api.client(await api.tokenFor('frank', 'customer-relations'));
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    const debtor = (await relations.call('POST /debtors', { body: { name: 'Live GmbH' } })).body;
    const o = await signedIn('carol', `#/orders/${order.id}`, PUSH_ONLY);
    const d = await signedIn('frank', `#/debtors/${debtor.id}`, PUSH_ONLY);
    await Promise.all([live(o), live(d)]);

    await bob.addLine(order.id, 1, { sku: 'NUT', quantity: 3, unitPrice: 5 });
    await o.locator('tr[data-line="NUT"]').waitFor();
    await finance.call('POST /debtors/{id}/postings', {
      params: { id: debtor.id },
      body: { amount: -12500, reference: 'INV-1' },
    });
    await d.getByText('Balance -€125.00', { exact: true }).waitFor();

    expect([await textOf(o, '.meta'), await o.locator('.banner.live-change p').textContent()]).toEqual([
      'draft · total €1.15 · 2 lines',
      expect.stringMatching(
        /^bob changed this at .+ \(version 1 → 2\): NUT sku “NUT”, NUT quantity “3”, NUT unit price “0.05”\.$/,
      ),
    ]);
  });

  it("an account's balance and entries follow a teller's deposit on the open page", async () => {
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    const account = (await finance.call('POST /accounts', { body: { name: 'Live till', currency: 'EUR' } }))
      .body;
    const page = await signedIn('erin', `#/accounts/${account.id}`, PUSH_ONLY);
    await live(page);
    await page.getByRole('table', { name: 'Entries' }).waitFor();

    await finance.call('POST /accounts/{id}/deposits', { params: { id: account.id }, body: { amount: 420 } });
    await page.locator('.balance', { hasText: '€4.20' }).waitFor();
    await page.getByRole('table', { name: 'Entries' }).getByText('deposit').waitFor();
  });
});

describe('when the live channel is cut', () => {
  it('polling takes over at once and misses nothing; when it is back, pushed changes arrive again', async () => {
    const created = await alice.createAnnotation({ name: 'Cut', description: 'v1' });
    const a = await signedIn('alice', `#/annotations/${created.id}`, { poll: 300 });
    await live(a);

    api.live?.suspend();
    const indicator = a.locator('.live-status');
    await a.locator('.live-status[data-status="down"]').waitFor();
    expect(await indicator.textContent()).toBe('Reconnecting… (checking every 300 ms)');
    await bob.patchAnnotation(created.id, 1, { description: 'v2' });
    await bob.patchAnnotation(created.id, 2, { description: 'v3', tags: ['polled'] });
    await a.getByText('(version 1 → 3)', { exact: false }).waitFor();
    expect(await a.getByLabel('Description').inputValue()).toBe('v3');

    api.live?.resume();
    await live(a);
    await bob.patchAnnotation(created.id, 3, { description: 'v4' });
    await a.getByText('(version 1 → 4)', { exact: false }).waitFor();
    expect([
      await a.getByLabel('Description').inputValue(),
      await a.getByLabel('Tags (comma-separated)').inputValue(),
      await a.locator('.meta').first().textContent(),
    ]).toEqual(['v4', 'polled', expect.stringMatching(/^Version 4, last changed by bob at /)]);
  });
});
