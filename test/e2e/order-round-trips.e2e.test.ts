import { beforeAll, describe, expect, it } from 'vitest';
import { useApi } from '../support/api';
import { recordRequests } from '../support/sdk';

/** The round trips of orders and locks (docs/semantics.md, Round trips per request), counted with SDK middleware. */
const api = useApi();
let sales = '';
let supervisor = '';

beforeAll(async () => {
  sales = await api.tokenFor('sam', 'sales');
  supervisor = await api.tokenFor('sid', 'supervisor');
});

const line = { sku: 'A', quantity: 1, unitPrice: 100 };
const newOrder = async () =>
  (await api.call('POST', '/orders', { token: sales, body: { customer: 'ACME', lines: [line] } })).body as {
    id: string;
    lines: { lineId: string }[];
  };

const counted = async (
  token: string,
  method: string,
  path: string,
  options: Parameters<typeof api.call>[2] = {},
) => {
  const { result, commands } = await recordRequests(() => api.call(method, path, { token, ...options }));
  return { status: result.status, commands };
};

describe('round trips per order and lock route', () => {
  it('POST /orders with lines: one transaction; without: one PutItem', async () => {
    expect(await counted(sales, 'POST', '/orders', { body: { customer: 'A', lines: [line, line] } })).toEqual(
      {
        status: 201,
        commands: ['TransactWriteItemsCommand'],
      },
    );
    expect(await counted(sales, 'POST', '/orders', { body: { customer: 'A' } })).toEqual({
      status: 201,
      commands: ['TransactWriteItemsCommand'],
    });
  });

  it('GET /orders/{id}: one Query; GET /orders: one Query', async () => {
    const { id } = await newOrder();
    expect(await counted(sales, 'GET', `/orders/${id}`)).toEqual({ status: 200, commands: ['QueryCommand'] });
    expect(await counted(sales, 'GET', '/orders?limit=2')).toEqual({
      status: 200,
      commands: ['QueryCommand'],
    });
  });

  it('line add and line delete: one transaction each', async () => {
    const order = await newOrder();
    const h = (version: number) => ({ 'if-match': `"${version}"` });
    expect(await counted(sales, 'POST', `/orders/${order.id}/lines`, { headers: h(1), body: line })).toEqual({
      status: 201,
      commands: ['TransactWriteItemsCommand'],
    });
    expect(
      await counted(sales, 'DELETE', `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
        headers: h(2),
      }),
    ).toEqual({
      status: 200,
      commands: ['TransactWriteItemsCommand'],
    });
  });

  it('line patch: the order read (one Query), then one transaction, with If-Match: * too', async () => {
    const order = await newOrder();
    expect(
      await counted(sales, 'PATCH', `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
        headers: { 'if-match': '"1"' },
        body: { quantity: 3 },
      }),
    ).toEqual({ status: 200, commands: ['QueryCommand', 'TransactWriteItemsCommand'] });
    expect(
      await counted(sales, 'PATCH', `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
        headers: { 'if-match': '*' },
        body: { quantity: 4 },
      }),
    ).toEqual({ status: 200, commands: ['QueryCommand', 'TransactWriteItemsCommand'] });
  });

  it('header PATCH and transition: one conditional UpdateItem on the header', async () => {
    const order = await newOrder();
    expect(
      await counted(sales, 'PATCH', `/orders/${order.id}`, {
        headers: { 'if-match': '"1"' },
        body: { notes: 'n' },
      }),
    ).toEqual({ status: 200, commands: ['UpdateItemCommand'] });
    expect(
      await counted(supervisor, 'POST', `/orders/${order.id}/transitions`, {
        headers: { 'if-match': '"2"' },
        body: { to: 'approved' },
      }),
    ).toEqual({ status: 200, commands: ['UpdateItemCommand'] });
  });

  it('a stale line change answers with the whole order: the transaction plus one Query', async () => {
    const order = await newOrder();
    expect(
      await counted(sales, 'POST', `/orders/${order.id}/lines`, {
        headers: { 'if-match': '"9"' },
        body: line,
      }),
    ).toEqual({ status: 412, commands: ['TransactWriteItemsCommand', 'QueryCommand'] });
  });

  it('lock, renew, release: one UpdateItem each', async () => {
    const { id } = await newOrder();
    const lock = await recordRequests(() => api.call('POST', `/orders/${id}/lock`, { token: sales }));
    expect([lock.result.status, lock.commands]).toEqual([201, ['UpdateItemCommand']]);
    const headers = { 'lock-token': lock.result.body.token };
    expect(await counted(sales, 'PUT', `/orders/${id}/lock`, { headers })).toEqual({
      status: 200,
      commands: ['UpdateItemCommand'],
    });
    expect(await counted(sales, 'DELETE', `/orders/${id}/lock`, { headers })).toEqual({
      status: 204,
      commands: ['UpdateItemCommand'],
    });
  });
});
