import { beforeAll, describe, expect, it } from 'vitest';
import type { Answer, CallArguments, Reply } from '../../lib/client/answers';
import type { RouteKey } from '../../lib/contract/operations';
import { routeKeyOf, routes } from '../../lib/routes';
import { useApi } from '../support/api';

const api = useApi();
const tokens: Record<string, string> = {};

beforeAll(async () => {
  tokens.sales = await api.tokenFor('alice', 'sales');
  tokens.bob = await api.tokenFor('bob', 'sales');
  tokens.supervisor = await api.tokenFor('sam', 'supervisor');
  tokens.relations = await api.tokenFor('carla', 'customer-relations');
  tokens.finance = await api.tokenFor('fiona', 'finance');
  tokens.purchasing = await api.tokenFor('pete', 'purchasing');
  tokens.warehouse = await api.tokenFor('wally', 'warehouse');
});

/** Each route key called in this file with the status it answered. */
const statuses: Record<string, number> = {};
type Client = ReturnType<typeof api.client>;
const as = (who: string): Client => api.client(tokens[who] ?? '');

/** One call through the typed client (its answer held to the document), noted by route key. */
const call = async <K extends RouteKey>(client: Client, key: K, ...options: CallArguments<K>) => {
  const answer = await client.call(key, ...options);
  statuses[key] = answer.status;
  return answer;
};
/** A call that must answer a body, not 304. */
const ok = async <K extends RouteKey>(
  client: Client,
  key: K,
  ...options: CallArguments<K>
): Promise<Answer<Reply<K>>> => {
  const answer = await call(client, key, ...options);
  if ('notModified' in answer) throw new Error(`${key} answered 304`);
  return answer as Answer<Reply<K>>;
};

/** What each route answers on success: the document's status, and 304 for the conditional GET. */
const expectedStatus = (key: string): number => {
  if (key === 'GET /annotations/{id}') return 304;
  if (key.startsWith('DELETE') && !key.includes('/lines/')) return 204;
  if (key.startsWith('POST') && !key.endsWith('/batch') && !key.endsWith('/transitions')) return 201;
  return 200;
};

describe('every route through the typed client', () => {
  it('calls each route of the route table once, each answering its success, typed', async () => {
    const sales = as('sales');
    const supervisor = as('supervisor');

    await ok(sales, 'GET /health');
    const openapi = await ok(sales, 'GET /openapi.json');
    expect(Object.keys(openapi.body.paths as object)).toContain('/annotations/{id}');

    // Annotations: create, list, batch, a 304, replace, patch, lock, renew, release, delete.
    const created = await ok(sales, 'POST /annotations', { body: { name: 'every' } });
    const id = created.body.id;
    const listed = await ok(sales, 'GET /annotations', { query: { limit: 1 } });
    expect(listed.body.items.map((item) => item.id)).toEqual([id]);
    const batch = await ok(sales, 'POST /annotations/batch', {
      body: { updates: [{ id, version: 1, set: { description: 'batched' } }] },
    });
    expect(batch.body).toMatchObject({ results: [{ id, status: 200 }] });
    const unchanged = await call(sales, 'GET /annotations/{id}', { params: { id }, ifNoneMatch: 2 });
    expect(unchanged).toEqual({ status: 304, notModified: true, etag: 2 });
    const put = await ok(sales, 'PUT /annotations/{id}', {
      params: { id },
      ifMatch: 2,
      body: { name: 'put' },
    });
    expect([put.etag, put.body.name, put.body.description]).toEqual([3, 'put', undefined]);
    const patched = await ok(sales, 'PATCH /annotations/{id}', {
      params: { id },
      ifMatch: 3,
      body: { tags: ['x'] },
    });
    expect([patched.etag, patched.body.tags]).toEqual([4, ['x']]);
    const lease = await ok(sales, 'POST /annotations/{id}/lock', { params: { id }, body: {} });
    expect([lease.body.owner, lease.body.fence]).toEqual(['alice', 1]);
    await ok(sales, 'PUT /annotations/{id}/lock', {
      params: { id },
      lockToken: lease.body.token,
      body: { ttlSeconds: 60 },
    });
    await ok(sales, 'DELETE /annotations/{id}/lock', { params: { id }, lockToken: lease.body.token });
    await ok(sales, 'DELETE /annotations/{id}', { params: { id }, ifMatch: 4 });

    // Orders: header and lines, a lock broken by a supervisor, then approval.
    const order = await ok(sales, 'POST /orders', {
      body: { customer: 'Every', lines: [{ sku: 'A', quantity: 1, unitPrice: 100 }] },
    });
    const orderId = order.body.id;
    const firstLine = order.body.lines[0]?.lineId ?? '';
    await ok(sales, 'GET /orders');
    await ok(sales, 'GET /orders/{id}', { params: { id: orderId } });
    const replaced = await ok(sales, 'PUT /orders/{id}', {
      params: { id: orderId },
      ifMatch: 1,
      body: { customer: 'Every Ltd', lines: [{ lineId: firstLine, sku: 'A', quantity: 2, unitPrice: 100 }] },
    });
    expect([replaced.etag, replaced.body.total]).toEqual([2, 200]);
    await ok(sales, 'PATCH /orders/{id}', { params: { id: orderId }, ifMatch: 2, body: { notes: 'rush' } });
    const added = await ok(sales, 'POST /orders/{id}/lines', {
      params: { id: orderId },
      ifMatch: 3,
      body: { sku: 'B', quantity: 1, unitPrice: 5 },
    });
    const addedLine = added.body.line?.lineId ?? '';
    await ok(sales, 'PATCH /orders/{id}/lines/{lineId}', {
      params: { id: orderId, lineId: addedLine },
      ifMatch: 4,
      body: { quantity: 3 },
    });
    const removed = await ok(sales, 'DELETE /orders/{id}/lines/{lineId}', {
      params: { id: orderId, lineId: addedLine },
      ifMatch: 5,
    });
    expect([removed.etag, removed.body.version, removed.body.line]).toEqual([6, 6, undefined]);
    const bob = as('bob');
    const orderLease = await ok(bob, 'POST /orders/{id}/lock', { params: { id: orderId } });
    await ok(bob, 'PUT /orders/{id}/lock', { params: { id: orderId }, lockToken: orderLease.body.token });
    await ok(supervisor, 'DELETE /orders/{id}/lock', { params: { id: orderId } });
    const approved = await ok(supervisor, 'POST /orders/{id}/transitions', {
      params: { id: orderId },
      ifMatch: 6,
      body: { to: 'approved' },
    });
    expect([approved.body.status, approved.etag]).toEqual(['approved', 7]);

    // Debtors: one group changed by its owner, a posting by finance.
    const relations = as('relations');
    const debtor = await ok(relations, 'POST /debtors', { body: { name: 'Every GmbH', country: 'DE' } });
    const debtorId = debtor.body.id;
    await ok(relations, 'GET /debtors/{id}', { params: { id: debtorId } });
    const debtors = await ok(relations, 'GET /debtors', { query: { q: 'every gmbh', limit: 5 } });
    expect(debtors.body.items.map((item) => [item.id, item.name])).toEqual([[debtorId, 'Every GmbH']]);
    const moved = await ok(relations, 'PATCH /debtors/{id}', {
      params: { id: debtorId },
      body: { base: { street: null, city: null, postalCode: null, country: 'DE' }, set: { city: 'Berlin' } },
    });
    expect([moved.body.record.city, moved.body.groups.address]).toEqual(['Berlin', 'applied']);
    const finance = as('finance');
    const posted = await ok(finance, 'POST /debtors/{id}/postings', {
      params: { id: debtorId },
      body: { amount: 250, reference: 'INV-1' },
    });
    expect(posted.body).toEqual({ balance: 250 });

    // Articles: created by purchasing, stock moved by the warehouse.
    const purchasing = as('purchasing');
    const sku = `EVERY-${Date.now()}`;
    await ok(purchasing, 'POST /articles', { body: { id: sku, description: 'Every widget' } });
    await ok(purchasing, 'GET /articles/{id}', { params: { id: sku } });
    const articles = await ok(purchasing, 'GET /articles', { query: { q: sku.toLowerCase() } });
    expect(articles.body.items.map((item) => [item.id, item.description])).toEqual([[sku, 'Every widget']]);
    await ok(purchasing, 'PATCH /articles/{id}', {
      params: { id: sku },
      body: { base: { preferredSupplier: null, maxPurchasePrice: null }, set: { preferredSupplier: 'ACME' } },
    });
    const stock = await ok(as('warehouse'), 'POST /articles/{id}/stock-movements', {
      params: { id: sku },
      body: { delta: 5, reason: 'delivery' },
    });
    expect(stock.body).toEqual({ inStock: 5 });

    // Accounts: two opened, money in, out and across, then the entries.
    const from = (await ok(finance, 'POST /accounts', { body: { name: 'Every from', currency: 'EUR' } })).body
      .id;
    const to = (await finance.call('POST /accounts', { body: { name: 'Every to', currency: 'EUR' } })).body
      .id;
    await ok(finance, 'GET /accounts/{id}', { params: { id: from } });
    const accounts = await ok(finance, 'GET /accounts', { query: { q: 'EVERY' } });
    expect(accounts.body.items.map((item) => [item.id, item.name])).toEqual([
      [to, 'Every to'],
      [from, 'Every from'],
    ]);
    await ok(finance, 'POST /accounts/{id}/deposits', { params: { id: from }, body: { amount: 100 } });
    await ok(finance, 'POST /accounts/{id}/withdrawals', { params: { id: from }, body: { amount: 10 } });
    const transfer = await ok(finance, 'POST /transfers', { body: { from, to, amount: 30 } });
    expect(transfer.body.balances).toEqual({ [from]: 60, [to]: 30 });
    const entries = await ok(finance, 'GET /accounts/{id}/entries', { params: { id: from } });
    expect(entries.body.items.map((entry) => [entry.kind, entry.amount])).toEqual([
      ['transfer-out', -30],
      ['withdrawal', -10],
      ['deposit', 100],
    ]);

    expect(statuses).toEqual(
      Object.fromEntries(routes.map((route) => [routeKeyOf(route), expectedStatus(routeKeyOf(route))])),
    );
  });
});
