import { beforeAll, describe, expect, it } from 'vitest';
import { useApi } from '../support/api';
import { recordRequests } from '../support/sdk';

/** The DynamoDB requests each HTTP request may make on its success path (docs/semantics.md, Round trips per request). */
const api = useApi();
let alice = '';

beforeAll(async () => {
  alice = await api.tokenFor('alice');
});

const create = async (name = 'n') =>
  (await api.call('POST', '/annotations', { token: alice, body: { name } })).body as { id: string };

const counted = async (method: string, path: string, options: Parameters<typeof api.call>[2]) => {
  const { result, commands } = await recordRequests(() =>
    api.call(method, path, { token: alice, ...options }),
  );
  return { status: result.status, commands };
};

describe('round trips per annotation route', () => {
  it('POST /annotations: one PutItem', async () => {
    expect(await counted('POST', '/annotations', { body: { name: 'x' } })).toEqual({
      status: 201,
      commands: ['PutItemCommand'],
    });
  });

  it('POST /annotations with an Idempotency-Key: one transaction, the record with its key', async () => {
    expect(
      await counted('POST', '/annotations', {
        body: { name: 'x' },
        headers: { 'idempotency-key': 'rt-create' },
      }),
    ).toEqual({ status: 201, commands: ['TransactWriteItemsCommand'] });
  });

  it('GET /annotations/{id}: one GetItem, and one for a 304', async () => {
    const { id } = await create();
    expect(await counted('GET', `/annotations/${id}`, {})).toEqual({
      status: 200,
      commands: ['GetItemCommand'],
    });
    expect(await counted('GET', `/annotations/${id}`, { headers: { 'if-none-match': '"1"' } })).toEqual({
      status: 304,
      commands: ['GetItemCommand'],
    });
  });

  it('GET /annotations: one Query', async () => {
    await create();
    expect(await counted('GET', '/annotations?limit=5', {})).toEqual({
      status: 200,
      commands: ['QueryCommand'],
    });
  });

  it('GET /annotations?q=: one Query of the index reading 100 items, while the page fills from them', async () => {
    for (const name of ['Round trip one', 'round TRIP two', 'ROUND trip three']) await create(name);
    const { result, requests } = await recordRequests(() =>
      api.call('GET', '/annotations?limit=2&q=round%20trip', { token: alice }),
    );
    expect([result.status, result.body.items.map((item: { name: string }) => item.name)]).toEqual([
      200,
      ['ROUND trip three', 'round TRIP two'],
    ]);
    expect(requests.map(({ command, input }) => [command, input.IndexName, input.Limit])).toEqual([
      ['QueryCommand', 'byType', 100],
    ]);
  });

  it('GET /annotations?q= of a rare term: at most 3 Queries of 100 items (300 read), then a cursor', async () => {
    const needle = await create('The needle');
    for (let round = 0; round < 16; round += 1) {
      await Promise.all(Array.from({ length: 20 }, (_, n) => create(`hay ${round}-${n}`)));
    }
    const first = await recordRequests(() =>
      api.call('GET', '/annotations?limit=5&q=NEEDLE', { token: alice }),
    );
    expect([first.result.status, first.result.body.items, typeof first.result.body.nextCursor]).toEqual([
      200,
      [],
      'string',
    ]);
    expect(first.requests.map(({ command, input }) => [command, input.Limit])).toEqual([
      ['QueryCommand', 100],
      ['QueryCommand', 100],
      ['QueryCommand', 100],
    ]);
    const next = await recordRequests(() =>
      api.call('GET', `/annotations?limit=5&q=NEEDLE&cursor=${first.result.body.nextCursor}`, {
        token: alice,
      }),
    );
    expect([next.result.status, next.result.body.items.map((item: { id: string }) => item.id)]).toEqual([
      200,
      [needle.id],
    ]);
    expect([next.commands, next.result.body.nextCursor]).toEqual([['QueryCommand'], undefined]);
  });

  it('If-Match: * is one UpdateItem; with an Idempotency-Key a read, then one transaction with the key', async () => {
    const { id } = await create();
    expect(
      await counted('PATCH', `/annotations/${id}`, { headers: { 'if-match': '*' }, body: { name: 'star' } }),
    ).toEqual({ status: 200, commands: ['UpdateItemCommand'] });
    expect(
      await counted('PATCH', `/annotations/${id}`, {
        headers: { 'if-match': '*', 'idempotency-key': 'rt-star' },
        body: { name: 'keyed star' },
      }),
    ).toEqual({ status: 200, commands: ['GetItemCommand', 'TransactWriteItemsCommand'] });
  });

  it('PUT, PATCH and DELETE: one UpdateItem each; keyed, a read and a transaction (a delete: the transaction)', async () => {
    const { id } = await create();
    expect(
      await counted('PUT', `/annotations/${id}`, { headers: { 'if-match': '"1"' }, body: { name: 'p' } }),
    ).toEqual({
      status: 200,
      commands: ['UpdateItemCommand'],
    });
    expect(
      await counted('PATCH', `/annotations/${id}`, { headers: { 'if-match': '"2"' }, body: { tags: ['t'] } }),
    ).toEqual({ status: 200, commands: ['UpdateItemCommand'] });
    expect(
      await counted('PATCH', `/annotations/${id}`, {
        headers: { 'if-match': '"3"', 'idempotency-key': 'rt-patch' },
        body: { tags: ['u'] },
      }),
    ).toEqual({ status: 200, commands: ['GetItemCommand', 'TransactWriteItemsCommand'] });
    expect(await counted('DELETE', `/annotations/${id}`, { headers: { 'if-match': '"4"' } })).toEqual({
      status: 204,
      commands: ['UpdateItemCommand'],
    });
    const other = await create();
    expect(
      await counted('DELETE', `/annotations/${other.id}`, {
        headers: { 'if-match': '"1"', 'idempotency-key': 'rt-delete' },
      }),
    ).toEqual({ status: 204, commands: ['TransactWriteItemsCommand'] });
  });

  it('a conflict answer with current: the one failed UpdateItem', async () => {
    const { id } = await create();
    await api.call('PUT', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"' },
      body: { name: 'v2' },
    });
    expect(
      await counted('PUT', `/annotations/${id}`, { headers: { 'if-match': '"1"' }, body: { name: 'old' } }),
    ).toEqual({
      status: 412,
      commands: ['UpdateItemCommand'],
    });
  });

  it('POST /annotations/batch, not atomic: one UpdateItem per item', async () => {
    const ids = await Promise.all([create(), create(), create()]);
    const updates = ids.map(({ id }) => ({ id, version: 1, set: { name: 'b' } }));
    expect(await counted('POST', '/annotations/batch', { body: { updates } })).toEqual({
      status: 200,
      commands: ['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand'],
    });
  });

  it('POST /annotations/batch, atomic: one TransactWriteItems', async () => {
    const ids = await Promise.all([create(), create(), create()]);
    const updates = ids.map(({ id }) => ({ id, version: 1, set: { name: 'b' } }));
    expect(await counted('POST', '/annotations/batch', { body: { atomic: true, updates } })).toEqual({
      status: 200,
      commands: ['TransactWriteItemsCommand'],
    });
  });

  it('GET /health: none', async () => {
    expect(await counted('GET', '/health', {})).toEqual({ status: 200, commands: [] });
  });
});
