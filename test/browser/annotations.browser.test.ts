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

const fill = async (page: Page, label: string, value: string) => page.getByLabel(label).fill(value);

/** Alice and Bob open one annotation; Alice saves a new description, Bob then saves from version 1. */
const conflictOnOne = async (tag: string) => {
  const created = await alice.createAnnotation({ name: `Cell ${tag}`, description: 'd0' });
  const hash = `#/annotations/${created.id}`;
  const [a, b] = await Promise.all([signedIn('alice', hash), signedIn('bob', hash)]);
  await Promise.all([a.getByLabel('Name').waitFor(), b.getByLabel('Name').waitFor()]);
  await fill(a, 'Description', 'alice desc');
  await a.getByRole('button', { name: 'Save' }).click();
  await a.getByText('Saved: version 2.').waitFor();
  await fill(b, 'Name', `Bob ${tag}`);
  await fill(b, 'Description', 'bob desc');
  await b.getByRole('button', { name: 'Save' }).click();
  await b.getByRole('region', { name: 'Conflict' }).waitFor();
  return { id: created.id, a, b };
};

const row = async (page: Page, field: string) => {
  const cells = page.locator(`tr[data-field="${field}"] td`);
  return [
    await cells.nth(0).textContent(),
    await cells.nth(1).textContent(),
    await cells.nth(2).textContent(),
  ];
};

describe('annotations in two windows', () => {
  it('the conflict view shows, field by field, what Bob started from, what Alice stored, and his change', async () => {
    const { b } = await conflictOnOne('view');
    expect([await row(b, 'name'), await row(b, 'description')]).toEqual([
      ['Cell view', 'Cell view', 'Bob view'],
      ['d0', 'alice desc', 'bob desc'],
    ]);
    expect(await textOf(b, 'section.conflict h2')).toMatch(
      /^alice changed this at .* while you were editing$/,
    );
    await b.screenshot({ path: join(artifacts, 'annotation-conflict.png'), fullPage: true });
  });

  it('keep mine re-sends Bob’s changes against version 2: his fields win, at version 3', async () => {
    const { id, b } = await conflictOnOne('mine');
    await b.getByRole('button', { name: 'Keep mine' }).click();
    await b.getByText('Saved: version 3.').waitFor();
    expect(await alice.getAnnotation(id)).toMatchObject({
      name: 'Bob mine',
      description: 'bob desc',
      version: 3,
    });
  });

  it('keep mine sends only what Bob changed: Alice’s description, which he left alone, stays', async () => {
    const created = await alice.createAnnotation({ name: 'Cell only', description: 'd0' });
    const hash = `#/annotations/${created.id}`;
    const b = await signedIn('bob', hash);
    await b.getByLabel('Name').waitFor();
    await alice.patchAnnotation(created.id, 1, { description: 'alice desc' });
    await fill(b, 'Name', 'Bob only');
    await fill(b, 'Tags (comma-separated)', '');
    await b.getByRole('button', { name: 'Save' }).click();
    await b.getByRole('region', { name: 'Conflict' }).waitFor();
    await b.getByRole('button', { name: 'Keep mine' }).click();
    await b.getByText('Saved: version 3.').waitFor();
    expect(await alice.getAnnotation(created.id)).toMatchObject({
      name: 'Bob only',
      description: 'alice desc',
      version: 3,
    });
  });

  it('take theirs keeps Alice’s version 2 as it is: nothing written', async () => {
    const { id, b } = await conflictOnOne('theirs');
    await b.getByRole('button', { name: 'Take theirs' }).click();
    await b.getByText("Took alice's version 2.").waitFor();
    expect(await b.getByLabel('Description').inputValue()).toBe('alice desc');
    expect(await alice.getAnnotation(id)).toMatchObject({
      name: 'Cell theirs',
      description: 'alice desc',
      version: 2,
    });
  });

  it('a merge keeps Bob’s name and Alice’s description, at version 3: nothing of Alice’s lost', async () => {
    const { id, b } = await conflictOnOne('merge');
    await b.getByLabel('Take theirs for description').check();
    await b.getByRole('button', { name: 'Save merge' }).click();
    await b.getByText('Saved: version 3.').waitFor();
    expect(await alice.getAnnotation(id)).toMatchObject({
      name: 'Bob merge',
      description: 'alice desc',
      version: 3,
    });
  });

  it('the same change already saved by Alice is “already saved by alice”, not a conflict', async () => {
    const created = await alice.createAnnotation({ name: 'Same' });
    const b = await signedIn('bob', `#/annotations/${created.id}`);
    await b.getByLabel('Name').waitFor();
    await alice.patchAnnotation(created.id, 1, { name: 'Same change' });
    await fill(b, 'Name', 'Same change');
    await b.getByRole('button', { name: 'Save' }).click();
    const note = b.getByRole('region', { name: 'Already saved' });
    await note.waitFor();
    expect(await note.locator('p').textContent()).toMatch(
      /^Already saved by alice at .*: the stored record \(version 2\) holds your change\.$/,
    );
  });

  it('a deleted annotation says who deleted it and when', async () => {
    const created = await alice.createAnnotation({ name: 'Doomed' });
    const b = await signedIn('bob', `#/annotations/${created.id}`);
    await b.getByLabel('Name').waitFor();
    await alice.call('DELETE /annotations/{id}', { params: { id: created.id }, ifMatch: 1 });
    await fill(b, 'Name', 'Too late');
    await b.getByRole('button', { name: 'Save' }).click();
    await b.getByRole('alert').waitFor();
    expect(await b.getByRole('alert').textContent()).toMatch(/^Deleted by alice at \d\d:\d\d:\d\d\.$/);
  });

  it('staleness before it bites: Bob’s open page says “changed by alice” once she saves', async () => {
    const created = await alice.createAnnotation({ name: 'Watched' });
    const b = await signedIn('bob', `#/annotations/${created.id}`);
    await b.getByLabel('Name').waitFor();
    await alice.patchAnnotation(created.id, 1, { description: 'new' });
    const banner = b.locator('.banner.stale');
    await banner.waitFor({ timeout: 10_000 });
    expect(await banner.textContent()).toMatch(
      /^Changed by alice at .* since you opened it \(now version 2\)\.$/,
    );
  });

  it('a lock: Bob sees its owner and countdown, is refused on save, and succeeds after Alice releases it', async () => {
    const created = await alice.createAnnotation({ name: 'Locked' });
    const hash = `#/annotations/${created.id}`;
    const a = await signedIn('alice', hash);
    await a.getByRole('button', { name: 'Edit with lock' }).click();
    await a.getByText('You hold the lock until').waitFor();
    const b = await signedIn('bob', hash);
    const lock = b.getByText(/^Locked by alice until/);
    await lock.waitFor();
    expect(await lock.textContent()).toMatch(/^Locked by alice until \d\d:\d\d:\d\d \([45]:\d\d left\)$/);
    expect(await b.getByRole('button', { name: 'Break lock' }).count()).toBe(0);
    await b.screenshot({ path: join(artifacts, 'annotation-locked.png'), fullPage: true });
    await fill(b, 'Name', 'Bob was here');
    await b.getByRole('button', { name: 'Save' }).click();
    await b.getByRole('alert').waitFor();
    expect(await b.getByRole('alert').textContent()).toMatch(
      /^Refused: alice holds the lock until \d\d:\d\d:\d\d\.$/,
    );
    await a.getByRole('button', { name: 'Release lock' }).click();
    await a.getByText('Lock released.').waitFor();
    await b.getByRole('button', { name: 'Save' }).click();
    await b.getByText('Saved: version 2.').waitFor();
    expect(await alice.getAnnotation(created.id)).toMatchObject({ name: 'Bob was here', version: 2 });
  });
});
