import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../lib/client/api-client';
import { artifacts, useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();
let alice: ApiClient;

beforeAll(async () => {
  alice = api.client(await api.tokenFor('alice', 'sales'));
});

describe('a lock as its holder lives it', () => {
  it('broken by a supervisor (who is told what that does first): the holder is shown at once, and the next save under it is refused with the reason', async () => {
    const created = await alice.createAnnotation({ name: 'Held' });
    const hash = `#/annotations/${created.id}`;
    const a = await signedIn('alice', hash);
    await a.getByRole('button', { name: 'Edit with lock' }).click();
    await a.getByText(/^You hold the lock until/).waitFor();
    await a.getByLabel('Description').fill('written under the lock');

    const c = await signedIn('carol', hash);
    await c.getByRole('button', { name: 'Break lock' }).click();
    const dialog = c.getByRole('dialog', { name: 'Break alice’s lock?' });
    expect(await dialog.locator('p').textContent()).toMatch(
      /^alice holds it until .+\. Breaking it lets everyone write again at once; alice’s next save under this lock will be refused, and the changes alice has not saved stay only in alice’s browser until saved there\.$/,
    );
    await dialog.getByRole('button', { name: 'Break alice’s lock' }).click();
    await c.getByText('Lock broken: everyone may write again.').waitFor();

    const lost = a.locator('.lock .lost');
    await lost.waitFor();
    expect(await lost.locator('p').textContent()).toBe(
      'Your lock was broken or released elsewhere: nobody holds it now. Your changes are kept, not saved; saving under the lock is refused until you decide.',
    );
    await a.screenshot({ path: join(artifacts, 'lock-broken.png'), fullPage: true });
    await a.getByRole('button', { name: 'Save', exact: true }).click();
    await a
      .getByText(
        'Not saved: Your lock was broken or released elsewhere: nobody holds it now. Take the lock again, or go on without it.',
      )
      .waitFor();
    expect(await alice.getAnnotation(created.id)).toMatchObject({ version: 1 });
    expect((await alice.getAnnotation(created.id)).description).toBeUndefined();

    // She decides to go on without it: the save is checked by version as usual.
    await a.getByRole('button', { name: 'Go on without the lock' }).click();
    await a.getByRole('button', { name: 'Save', exact: true }).click();
    await a.getByText('Saved: version 2.').waitFor();
    expect(await alice.getAnnotation(created.id)).toMatchObject({
      description: 'written under the lock',
      version: 2,
    });
  });

  it('a minute before it ends the holder is warned and can renew it', async () => {
    const order = await alice.createOrder({ customer: 'Initech' });
    const a = await signedIn('alice', `#/orders/${order.id}`, { clock: true });
    await a.getByRole('button', { name: 'Edit with lock' }).click();
    await a.getByText(/^You hold the lock until/).waitFor();
    const before = await alice.getOrder(order.id);
    expect(await a.getByText('Your lock ends in a minute or less.', { exact: false }).count()).toBe(0);
    await a.clock.fastForward('04:05');
    const warning = a.getByText(
      'Your lock ends in a minute or less. Renew it to keep others out while you edit.',
    );
    await warning.waitFor();
    await a.screenshot({ path: join(artifacts, 'lock-expiry-warning.png'), fullPage: true });
    await a.getByRole('button', { name: 'Renew lock' }).click();
    await a.getByText(/^Lock renewed until/).waitFor();
    const after = await alice.getOrder(order.id);
    expect(Date.parse(after.lock?.expiresAt ?? '')).toBeGreaterThan(Date.parse(before.lock?.expiresAt ?? ''));
    // Back at the real time, the renewed lock has almost five minutes left: no warning.
    await a.clock.setSystemTime(new Date());
    await warning.waitFor({ state: 'detached' });
  });

  it('a save under a lock that is no longer current, answered 409 LOCK_LOST, tells the holder their lock is gone and keeps the change', async () => {
    const created = await alice.createAnnotation({ name: 'Held unknowingly' });
    const a = await signedIn('alice', `#/annotations/${created.id}`, { poll: 600_000 });
    await a.getByRole('button', { name: 'Edit with lock' }).click();
    await a.getByText(/^You hold the lock until/).waitFor();
    await a.getByLabel('Description').fill('written under a lost lock');
    const carol = api.client(await api.tokenFor('carol', 'supervisor'));
    await carol.call('DELETE /annotations/{id}/lock', { params: { id: created.id } });
    // The page has not read the record since: its save carries the old token, and the API
    // refuses it (no lock is held now, so 409 LOCK_LOST, not 423), writing nothing.
    const patched = a.waitForResponse((response) => response.request().method() === 'PATCH');
    await a.getByRole('button', { name: 'Save', exact: true }).click();
    const refusal = await patched;
    await a.locator('.lock .lost').waitFor();
    expect([
      [Boolean(refusal.request().headers()['lock-token']), refusal.status(), (await refusal.json()).code],
      await a.locator('.banner.error[role="alert"]').first().textContent(),
      await a.getByLabel('Description').inputValue(),
      (await alice.getAnnotation(created.id)).version,
    ]).toEqual([
      [true, 409, 'LOCK_LOST'],
      expect.stringMatching(/^Your lock is gone: it was broken, expired or taken again elsewhere\./),
      'written under a lost lock',
      1,
    ]);
  });
});
