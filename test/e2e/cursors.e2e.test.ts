import { beforeAll, describe, expect, it } from 'vitest';
import { useApi } from '../support/api';

const api = useApi();
let alice = '';
let finance = '';

beforeAll(async () => {
  alice = await api.tokenFor('alice');
  finance = await api.tokenFor('fiona', 'finance');
});

const decode = (cursor: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const encode = (key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

/** A genuine cursor of GET /annotations, taken apart so that a test can forge from it. */
const annotationsCursor = async (): Promise<Record<string, unknown>> => {
  for (const name of ['one', 'two']) {
    const created = await api.call('POST', '/annotations', { token: alice, body: { name } });
    expect(created.status).toBe(201);
  }
  const page = await api.call('GET', '/annotations?limit=1', { token: alice });
  expect(page.status).toBe(200);
  expect(page.body.nextCursor).toEqual(expect.any(String));
  return decode(page.body.nextCursor);
};

/** An account with two entries and a genuine cursor of its entries, taken apart. */
const entriesCursor = async (): Promise<{ id: string; key: Record<string, unknown> }> => {
  const created = await api.call('POST', '/accounts', {
    token: finance,
    body: { name: 'Till', currency: 'EUR' },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  for (const key of ['d1', 'd2']) {
    const deposit = await api.call('POST', `/accounts/${id}/deposits`, {
      token: finance,
      headers: { 'idempotency-key': `${id}-${key}` },
      body: { amount: 5 },
    });
    expect(deposit.status).toBeLessThan(300);
  }
  const page = await api.call('GET', `/accounts/${id}/entries?limit=1`, { token: finance });
  expect(page.status).toBe(200);
  expect(page.body.nextCursor).toEqual(expect.any(String));
  return { id, key: decode(page.body.nextCursor) };
};

describe('forged cursors answer 400 MALFORMED_REQUEST, never 500', () => {
  it('a genuine annotations cursor, re-encoded, still reads the next page', async () => {
    const key = await annotationsCursor();
    const next = await api.call('GET', `/annotations?limit=1&cursor=${encode(key)}`, { token: alice });
    expect(next.status).toBe(200);
    expect(next.body.items).toHaveLength(1);
  });

  it.each([
    ['an empty pk', { pk: '' }],
    ['an empty gsi1sk', { gsi1sk: '' }],
    ['an empty sk', { sk: '' }],
    ['a gsi1sk over 1024 bytes', { gsi1sk: 'x'.repeat(1025) }],
    ['a number as sk', { sk: 1 }],
    ['another type in gsi1pk', { gsi1pk: 'ORDER' }],
  ])('GET /annotations with %s', async (_name, change) => {
    const key = await annotationsCursor();
    const answer = await api.call('GET', `/annotations?cursor=${encode({ ...key, ...change })}`, {
      token: alice,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
  });

  it.each([
    ['the record item as sk', { sk: 'RECORD' }],
    ['an empty sk', { sk: '' }],
    ['the entry prefix without its separator as sk', { sk: 'ENTRY' }],
  ])('GET /accounts/{id}/entries with %s', async (_name, change) => {
    const { id, key } = await entriesCursor();
    const answer = await api.call('GET', `/accounts/${id}/entries?cursor=${encode({ ...key, ...change })}`, {
      token: finance,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
  });
});
