import { beforeAll, describe, expect, it } from 'vitest';
import { type FunctionName, functionTableAccess, type RouteSpec, routes } from '../../lib/routes';
import { type CallOptions, useApi } from '../support/api';
import { recordRequests, type SentRequest, throttled, withFault } from '../support/sdk';

/**
 * The table access each function declares in the route table (from which the stack writes
 * its IAM policy) is exactly what its code paths send: every function is driven through
 * each of its routes, without and with an Idempotency-Key, replayed, under `If-Match: *`
 * and refused, and every DynamoDB request it makes is turned into the IAM actions it needs.
 * An action sent but not declared would be denied in AWS; one declared but never sent is
 * a privilege nobody needs.
 */
const api = useApi();
const tokens: Record<string, string> = {};

beforeAll(async () => {
  tokens.alice = await api.tokenFor('alice', 'sales');
  tokens.sam = await api.tokenFor('sam', 'supervisor');
  tokens.carla = await api.tokenFor('carla', 'customer-relations');
  tokens.fiona = await api.tokenFor('fiona', 'finance');
  tokens.pete = await api.tokenFor('pete', 'purchasing');
  tokens.wally = await api.tokenFor('wally', 'warehouse');
});

/** An action on the table itself, or `<action> on index/<name>`: what IAM authorises. */
const iamAccessOf = (request: SentRequest): string[] => {
  const action = `dynamodb:${request.command.replace(/Command$/, '')}`;
  if (request.command === 'TransactWriteItemsCommand' || request.command === 'TransactGetItemsCommand') {
    // A transaction is authorised by the action of each item it holds (a Get: GetItem).
    const items = request.input.TransactItems as Record<string, unknown>[];
    return items.map((item) => `dynamodb:${Object.keys(item)[0]}Item`);
  }
  const index = request.input.IndexName;
  return [typeof index === 'string' ? `${action} on index/${index}` : action];
};

const declaredAccessOf = (fn: FunctionName): string[] => {
  const access = functionTableAccess[fn];
  if (!access) return [];
  return [...access.table, ...access.indexes.map((index) => `dynamodb:Query on index/${index}`)].sort();
};

const templateMatches = (route: RouteSpec, method: string, path: string): boolean => {
  const pattern = new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`);
  return route.method === method && pattern.test(path);
};

type Call = (
  status: number,
  who: string,
  method: string,
  path: string,
  options?: Omit<CallOptions, 'token'>,
  // biome-ignore lint/suspicious/noExplicitAny: scenarios read whatever the API answered.
) => Promise<any>;

/** Runs a scenario of one function and answers the IAM access of every request it sent. */
const accessDuring = async (fn: FunctionName, scenario: (call: Call) => Promise<void>) => {
  const called: string[] = [];
  const call: Call = async (status, who, method, path, options = {}) => {
    const route = routes.find((candidate) => templateMatches(candidate, method, path));
    expect(route?.fn, `${method} ${path}`).toBe(fn);
    called.push(`${route?.method} ${route?.path}`);
    const answer = await api.call(method, path, { ...options, token: tokens[who] ?? '' });
    expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(status);
    return answer.body;
  };
  const { requests } = await recordRequests(() => scenario(call));
  return {
    access: [...new Set(requests.flatMap(iamAccessOf))].sort(),
    routesCalled: [...new Set(called)].sort(),
  };
};

const routesOf = (fn: FunctionName): string[] =>
  routes
    .filter((route) => route.fn === fn)
    .map((route) => `${route.method} ${route.path}`)
    .sort();

const key = (name: string) => ({ 'idempotency-key': `${name}-${Math.random()}` });
const keyed = (name: string) => {
  const headers = key(name);
  return { headers, again: { headers } };
};

const scenarios: Record<Exclude<FunctionName, 'health'>, (call: Call) => Promise<void>> = {
  annotations: async (call) => {
    const { id } = await call(201, 'alice', 'POST', '/annotations', { body: { name: 'a' } });
    const create = keyed('create');
    const { id: other } = await call(201, 'alice', 'POST', '/annotations', {
      body: { name: 'b' },
      headers: create.headers,
    });
    await call(201, 'alice', 'POST', '/annotations', { body: { name: 'b' }, ...create.again });
    await call(200, 'alice', 'GET', '/annotations?limit=2');
    await call(200, 'alice', 'GET', '/annotations?q=b');
    await call(200, 'alice', 'GET', `/annotations/${id}`);
    await call(200, 'alice', 'PUT', `/annotations/${id}`, {
      headers: { 'if-match': '"1"' },
      body: { name: 'c' },
    });
    await call(200, 'alice', 'PUT', `/annotations/${id}`, {
      headers: { 'if-match': '*' },
      body: { name: 'd' },
    });
    await call(200, 'alice', 'PUT', `/annotations/${id}`, {
      headers: { 'if-match': '*', ...key('put-any') },
      body: { name: 'e' },
    });
    await call(412, 'alice', 'PATCH', `/annotations/${id}`, {
      headers: { 'if-match': '"1"', ...key('stale') },
      body: { tags: ['t'] },
    });
    await call(200, 'alice', 'PATCH', `/annotations/${id}`, {
      headers: { 'if-match': '"4"' },
      body: { tags: ['t'] },
    });
    await call(200, 'alice', 'POST', '/annotations/batch', {
      body: { updates: [{ id, version: 5, set: { description: 'x' } }] },
    });
    await call(200, 'alice', 'POST', '/annotations/batch', {
      headers: key('batch'),
      body: { updates: [{ id, version: 6, set: { description: 'y' } }] },
    });
    // Its answer (a stale item, nothing written) could not be kept (throttled): the key's
    // claim is given up (a delete), so a repeat runs again.
    const unkept = await call(201, 'alice', 'POST', '/annotations', { body: { name: 'b' } });
    await withFault(
      {
        when: (command, input) => command === 'UpdateItemCommand' && JSON.stringify(input).includes('keptBy'),
        at: 'before',
        error: throttled,
        layer: 'outside-retries',
      },
      () =>
        call(503, 'alice', 'POST', '/annotations/batch', {
          headers: key('unkept'),
          body: { updates: [{ id: unkept.id, version: 9, set: { description: 'y2' } }] },
        }),
    );
    await call(200, 'alice', 'POST', '/annotations/batch', {
      body: { atomic: true, updates: [{ id, version: 7, set: { description: 'z' } }] },
    });
    await call(200, 'alice', 'POST', '/annotations/batch', {
      headers: key('atomic'),
      body: { atomic: true, updates: [{ id: other, version: 1, set: { description: 'z' } }] },
    });
    const lease = await call(201, 'alice', 'POST', `/annotations/${id}/lock`, { body: {} });
    await call(200, 'alice', 'PUT', `/annotations/${id}/lock`, {
      headers: { 'lock-token': lease.token },
      body: { ttlSeconds: 60 },
    });
    await call(204, 'alice', 'DELETE', `/annotations/${id}/lock`, { headers: { 'lock-token': lease.token } });
    const keyedLease = await call(201, 'alice', 'POST', `/annotations/${id}/lock`, {
      headers: key('lock'),
      body: {},
    });
    await call(204, 'alice', 'DELETE', `/annotations/${id}/lock`, {
      headers: { 'lock-token': keyedLease.token, ...key('unlock') },
    });
    await call(204, 'alice', 'DELETE', `/annotations/${id}`, { headers: { 'if-match': '*' } });
    await call(204, 'alice', 'DELETE', `/annotations/${other}`, {
      headers: { 'if-match': '*', ...key('delete') },
    });
  },

  orders: async (call) => {
    const line = { sku: 'A', quantity: 1, unitPrice: 100 };
    const order = await call(201, 'alice', 'POST', '/orders', { body: { customer: 'C', lines: [line] } });
    const create = keyed('order');
    await call(201, 'alice', 'POST', '/orders', {
      body: { customer: 'K', lines: [line] },
      headers: create.headers,
    });
    await call(201, 'alice', 'POST', '/orders', { body: { customer: 'K', lines: [line] }, ...create.again });
    const id = order.id;
    const lineId = order.lines[0].lineId;
    await call(200, 'alice', 'GET', '/orders?limit=2');
    await call(200, 'alice', 'GET', '/orders?q=k');
    await call(200, 'alice', 'GET', `/orders/${id}`);
    await call(200, 'alice', 'PUT', `/orders/${id}`, {
      headers: { 'if-match': '"1"' },
      body: { customer: 'D', lines: [{ ...line, lineId, quantity: 2 }] },
    });
    await call(200, 'alice', 'PATCH', `/orders/${id}`, {
      headers: { 'if-match': '*' },
      body: { notes: 'n' },
    });
    await call(412, 'alice', 'PATCH', `/orders/${id}`, {
      headers: { 'if-match': '"1"', ...key('stale') },
      body: { notes: 'm' },
    });
    const added = await call(201, 'alice', 'POST', `/orders/${id}/lines`, {
      headers: { 'if-match': '"3"', ...key('line') },
      body: { sku: 'B', quantity: 1, unitPrice: 5 },
    });
    const addedLine = added.line.lineId;
    await call(200, 'alice', 'PATCH', `/orders/${id}/lines/${addedLine}`, {
      headers: { 'if-match': '"4"' },
      body: { quantity: 3 },
    });
    await call(200, 'alice', 'DELETE', `/orders/${id}/lines/${addedLine}`, {
      headers: { 'if-match': '"5"' },
    });
    const lease = await call(201, 'alice', 'POST', `/orders/${id}/lock`);
    await call(200, 'alice', 'PUT', `/orders/${id}/lock`, { headers: { 'lock-token': lease.token } });
    await call(204, 'sam', 'DELETE', `/orders/${id}/lock`);
    await call(200, 'sam', 'POST', `/orders/${id}/transitions`, {
      headers: { 'if-match': '"6"', ...key('approve') },
      body: { to: 'approved' },
    });
  },

  debtors: async (call) => {
    const { id } = await call(201, 'carla', 'POST', '/debtors', { body: { name: 'D', country: 'DE' } });
    const base = { street: null, city: null, postalCode: null, country: 'DE' };
    await call(200, 'carla', 'GET', `/debtors/${id}`);
    await call(200, 'carla', 'GET', '/debtors?limit=2&q=d');
    await call(200, 'carla', 'PATCH', `/debtors/${id}`, { body: { base, set: { city: 'Berlin' } } });
    const patch = keyed('patch');
    const keyedPatch = { body: { base: { ...base, city: 'Berlin' }, set: { city: 'Bonn' } } };
    await call(200, 'carla', 'PATCH', `/debtors/${id}`, { ...keyedPatch, headers: patch.headers });
    await call(200, 'carla', 'PATCH', `/debtors/${id}`, { ...keyedPatch, ...patch.again });
    // Keyed and stale: the conflict uses up no key, so the key's claim is given up (a delete).
    await call(409, 'carla', 'PATCH', `/debtors/${id}`, {
      body: { base: { ...base, city: 'Berlin' }, set: { city: 'Köln' } },
      headers: key('stale'),
    });
    const posting = keyed('posting');
    await call(201, 'fiona', 'POST', `/debtors/${id}/postings`, {
      body: { amount: 5, reference: 'INV-1' },
      headers: posting.headers,
    });
    await call(201, 'fiona', 'POST', `/debtors/${id}/postings`, {
      body: { amount: 5, reference: 'INV-1' },
      ...posting.again,
    });
  },

  articles: async (call) => {
    const id = `ACCESS-${Date.now()}`;
    await call(201, 'pete', 'POST', '/articles', { body: { id, description: 'W' } });
    await call(200, 'pete', 'GET', `/articles/${id}`);
    await call(200, 'pete', 'GET', '/articles?q=access');
    const base = { preferredSupplier: null, maxPurchasePrice: null };
    await call(200, 'pete', 'PATCH', `/articles/${id}`, { body: { base, set: { preferredSupplier: 'A' } } });
    await call(200, 'pete', 'PATCH', `/articles/${id}`, {
      headers: key('patch'),
      body: { base: { ...base, preferredSupplier: 'A' }, set: { preferredSupplier: 'B' } },
    });
    await call(409, 'pete', 'PATCH', `/articles/${id}`, {
      headers: key('stale'),
      body: { base: { ...base, preferredSupplier: 'A' }, set: { preferredSupplier: 'C' } },
    });
    const movement = keyed('stock');
    const delta = { body: { delta: 5, reason: 'delivery' } };
    await call(201, 'wally', 'POST', `/articles/${id}/stock-movements`, {
      ...delta,
      headers: movement.headers,
    });
    await call(201, 'wally', 'POST', `/articles/${id}/stock-movements`, { ...delta, ...movement.again });
  },

  accounts: async (call) => {
    const from = (await call(201, 'fiona', 'POST', '/accounts', { body: { name: 'F', currency: 'EUR' } })).id;
    const to = (
      await call(201, 'fiona', 'POST', '/accounts', {
        body: { name: 'T', currency: 'EUR' },
        headers: key('open'),
      })
    ).id;
    await call(200, 'fiona', 'GET', `/accounts/${from}`);
    await call(200, 'fiona', 'GET', '/accounts?limit=1');
    const deposit = keyed('deposit');
    await call(201, 'fiona', 'POST', `/accounts/${from}/deposits`, {
      body: { amount: 100 },
      headers: deposit.headers,
    });
    await call(201, 'fiona', 'POST', `/accounts/${from}/deposits`, {
      body: { amount: 100 },
      ...deposit.again,
    });
    await call(201, 'fiona', 'POST', `/accounts/${from}/withdrawals`, {
      body: { amount: 10 },
      headers: key('out'),
    });
    const transfer = keyed('transfer');
    await call(201, 'fiona', 'POST', '/transfers', {
      body: { from, to, amount: 30 },
      headers: transfer.headers,
    });
    await call(201, 'fiona', 'POST', '/transfers', { body: { from, to, amount: 30 }, ...transfer.again });
    await call(200, 'fiona', 'GET', `/accounts/${from}/entries?limit=2`);
  },
};

describe('table access declared in the route table', () => {
  it.each(Object.keys(scenarios) as (keyof typeof scenarios)[])(
    '%s sends exactly the DynamoDB actions it declares, on the table and indexes it declares',
    async (fn) => {
      const { access, routesCalled } = await accessDuring(fn, scenarios[fn]);

      expect(routesCalled).toEqual(routesOf(fn));
      expect(access).toEqual(declaredAccessOf(fn));
    },
  );

  it('health sends nothing to DynamoDB and declares nothing', async () => {
    const { access, routesCalled } = await accessDuring('health', async (call) => {
      await call(200, 'alice', 'GET', '/health');
      await call(200, 'alice', 'GET', '/openapi.json');
    });

    expect(routesCalled).toEqual(routesOf('health'));
    expect([access, functionTableAccess.health]).toEqual([[], undefined]);
  });
});
