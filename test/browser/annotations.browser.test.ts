import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../lib/client/api-client';
import { artifacts, focused, textOf, useBrowser } from '../support/browser';

const { api, signedIn } = useBrowser();
let alice: ApiClient;

beforeAll(async () => {
  alice = api.client(await api.tokenFor('alice', 'sales'));
});

const fill = async (page: Page, label: string, value: string) =>
  page.getByLabel(label, { exact: true }).fill(value);
const save = (page: Page) => page.getByRole('button', { name: 'Save', exact: true }).click();

/** Alice and Bob open one annotation; Alice saves a new description, Bob then saves from version 1. */
const conflictOnOne = async (tag: string) => {
  const created = await alice.createAnnotation({ name: `Cell ${tag}`, description: 'd0', tags: ['x'] });
  const hash = `#/annotations/${created.id}`;
  const [a, b] = await Promise.all([
    signedIn('alice', hash),
    signedIn('bob', hash, { poll: 600_000, live: false }),
  ]);
  await Promise.all([
    a.getByLabel('Name', { exact: true }).waitFor(),
    b.getByLabel('Name', { exact: true }).waitFor(),
  ]);
  await fill(a, 'Description', 'alice desc');
  await fill(a, 'Tags (comma-separated)', 'x, y');
  await save(a);
  await a.getByText('Saved: version 2.').waitFor();
  await fill(b, 'Name', `Bob ${tag}`);
  await fill(b, 'Description', 'bob desc');
  await save(b);
  await b.getByRole('region', { name: 'Conflict' }).waitFor();
  return { id: created.id, a, b };
};

/** A conflict row: started from, stored now, yours, and the row's kind (collision, theirs, yours). */
const row = async (page: Page, field: string) => {
  const tr = page.locator(`tr[data-field="${field}"]`);
  return [
    await tr.getAttribute('class'),
    await tr.locator('td.started').textContent(),
    await tr.locator('td.theirs').textContent(),
    await tr.locator('td.yours').textContent(),
  ];
};

describe('annotations in two windows', () => {
  it('the conflict view shows, field by field, what Bob started from, what Alice stored and his change, true collisions apart', async () => {
    const { b } = await conflictOnOne('view');
    expect([await row(b, 'name'), await row(b, 'description'), await row(b, 'tags')]).toEqual([
      ['yours', 'Cell view', 'Cell view', 'Bob view'],
      ['collision', 'd0', 'alice desc', 'bob desc'],
      ['theirs', 'x', 'x, y', ''],
    ]);
    expect([
      await textOf(b, 'section.conflict h2'),
      await textOf(b, 'section.conflict .summary'),
      await focused(b),
      await b.getByTestId('announcer').textContent(),
    ]).toEqual([
      expect.stringMatching(/^alice changed this at .* while you were editing \(now version 2\)$/),
      'Saving writes name, description over version 2; everything else stays as it is stored.',
      'H2',
      expect.stringMatching(/^Conflict: alice changed this .*\. 1 field needs your decision\.$/),
    ]);
    await b.screenshot({ path: join(artifacts, 'annotation-conflict.png'), fullPage: true });
  });

  it('keeping every choice as mine writes Bob’s fields against version 2, and leaves Alice’s tags: version 3', async () => {
    const { id, b } = await conflictOnOne('mine');
    await b.getByRole('button', { name: 'Save my choices' }).click();
    await b.getByText('Saved: version 3.').waitFor();
    expect(await alice.getAnnotation(id)).toMatchObject({
      name: 'Bob mine',
      description: 'bob desc',
      tags: ['x', 'y'],
      version: 3,
    });
    // The field nobody of his changed shows what is stored.
    expect(await b.getByLabel('Tags (comma-separated)').inputValue()).toBe('x, y');
  });

  it('taking theirs for the collision keeps Alice’s description and writes Bob’s name: what the summary said', async () => {
    const { id, b } = await conflictOnOne('merge');
    await b.getByLabel('Take theirs for description').check();
    expect(await textOf(b, 'section.conflict .summary')).toBe(
      'Saving writes name over version 2; everything else stays as it is stored.',
    );
    await b.getByRole('button', { name: 'Save my choices' }).click();
    await b.getByText('Saved: version 3.').waitFor();
    expect(await alice.getAnnotation(id)).toMatchObject({
      name: 'Bob merge',
      description: 'alice desc',
      tags: ['x', 'y'],
      version: 3,
    });
  });

  it('take theirs for all keeps Alice’s version 2 as it is: nothing written', async () => {
    const { id, b } = await conflictOnOne('theirs');
    await b.getByRole('button', { name: 'Take theirs for all' }).click();
    await b.getByText('Took alice’s version 2; your changes were dropped.').waitFor();
    expect([
      await b.getByLabel('Description').inputValue(),
      await b.getByLabel('Name', { exact: true }).inputValue(),
    ]).toEqual(['alice desc', 'Cell theirs']);
    expect(await alice.getAnnotation(id)).toMatchObject({
      name: 'Cell theirs',
      description: 'alice desc',
      version: 2,
    });
  });

  it('the same change already saved by Alice is “already saved by alice”, and nothing is written', async () => {
    const created = await alice.createAnnotation({ name: 'Same' });
    const b = await signedIn('bob', `#/annotations/${created.id}`, { poll: 600_000, live: false });
    await b.getByLabel('Name', { exact: true }).waitFor();
    await alice.patchAnnotation(created.id, 1, { name: 'Same change' });
    await fill(b, 'Name', 'Same change');
    await save(b);
    const note = b.getByRole('region', { name: 'Already saved' });
    await note.waitFor();
    expect(await note.locator('h2').textContent()).toBe(
      'Already saved by alice: the stored record (version 2) holds your change',
    );
    await b.getByRole('button', { name: 'Continue with version 2' }).click();
    await b.getByText('Nothing left to write: version 2 holds your change.').waitFor();
    expect((await alice.getAnnotation(created.id)).version).toBe(2);
  });

  it('deleting asks first and says what happens; a deleted annotation says who deleted it and when', async () => {
    const created = await alice.createAnnotation({ name: 'Doomed' });
    const [a, b] = await Promise.all([
      signedIn('alice', `#/annotations/${created.id}`),
      signedIn('bob', `#/annotations/${created.id}`, { poll: 600_000, live: false }),
    ]);
    await b.getByLabel('Name', { exact: true }).waitFor();
    await a.getByRole('button', { name: 'Delete' }).click();
    const dialog = a.getByRole('dialog', { name: 'Delete “Doomed”?' });
    expect(await dialog.locator('p').textContent()).toBe(
      'Version 1 is deleted for everyone; it shows as deleted by you, and it cannot be brought back from here.',
    );
    await dialog.getByRole('button', { name: 'Delete it' }).click();
    await a.getByRole('heading', { name: 'Annotations' }).waitFor();
    await fill(b, 'Name', 'Too late');
    await save(b);
    await b.getByRole('alert').waitFor();
    expect(await b.getByRole('alert').textContent()).toMatch(
      /^Deleted by alice at .+\d{4}, \d+:\d\d:\d\d [AP]M\.$/,
    );
    expect(
      (await api.call('GET', `/annotations/${created.id}`, { token: await api.tokenFor('bob') })).status,
    ).toBe(410);
  });

  it('staleness before it bites: Bob’s open page shows alice’s change in the fields he did not touch, and says so beside his own', async () => {
    const created = await alice.createAnnotation({ name: 'Watched', description: 'old' });
    const b = await signedIn('bob', `#/annotations/${created.id}`);
    await b.getByLabel('Name', { exact: true }).waitFor();
    await fill(b, 'Name', 'Watched by Bob');
    await alice.patchAnnotation(created.id, 1, { description: 'new' });
    const banner = b.locator('.banner.stale');
    await banner.waitFor();
    expect([await banner.textContent(), await b.getByLabel('Description').inputValue()]).toEqual([
      expect.stringMatching(/^Changed by alice at .* since you started editing \(version 1 → 2\)\./),
      'new',
    ]);
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
    expect(await lock.textContent()).toMatch(/^Locked by alice until .+ \([45]:\d\d left\)$/);
    expect(await b.getByRole('button', { name: 'Break lock' }).count()).toBe(0);
    await b.screenshot({ path: join(artifacts, 'annotation-locked.png'), fullPage: true });
    await fill(b, 'Name', 'Bob was here');
    await save(b);
    await b.getByText(/^Refused: alice holds the lock until/).waitFor();
    await a.getByRole('button', { name: 'Release lock' }).click();
    await a.getByText('Lock released.').waitFor();
    await save(b);
    await b.getByText('Saved: version 2.').waitFor();
    expect(await alice.getAnnotation(created.id)).toMatchObject({ name: 'Bob was here', version: 2 });
  });

  it('the list pages through every annotation, newest first, with when and by whom', async () => {
    const tag = `page-${Date.now()}`;
    for (let n = 1; n <= 22; n += 1) await alice.createAnnotation({ name: `${tag} ${n}` });
    const page = await signedIn('alice', '#/annotations');
    const first = page.getByRole('table', { name: 'Annotations' }).locator('tbody tr').first();
    await first.waitFor();
    expect(await first.locator('td').first().textContent()).toBe(`${tag} 22`);
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('Page 2').waitFor();
    await page.getByRole('link', { name: `${tag} 2`, exact: true }).waitFor();
    expect(await page.getByRole('link', { name: `${tag} 22` }).count()).toBe(0);
  });
});
