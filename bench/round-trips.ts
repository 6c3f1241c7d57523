import { recordRequests } from '../test/support/sdk';
import { type BenchTable, ratio } from './measure';
import type { BenchServer } from './server';

/** One request of a route on its success path (or its conflict answer), and the contract's budget for it. */
interface Case {
  route: string;
  /** The "Round trips per request" entry of docs/semantics.md, in requests to DynamoDB. */
  budget: number;
  budgetText: string;
  /** The status the request is answered with; anything else fails the bench. */
  status: number;
  control?: boolean;
  /** Prepares what the request needs, then answers the request to count. */
  prepare(): Promise<() => Promise<{ status: number }>>;
}

const h = (version: number | '*', key?: string) => ({
  'if-match': version === '*' ? '*' : `"${version}"`,
  ...(key ? { 'idempotency-key': key } : {}),
});

/**
 * 6. Requests to DynamoDB per route, counted by the SDK middleware the tests count with,
 * against the budget the contract states (docs/semantics.md, Round trips per request).
 */
export const roundTripsTable = async (server: BenchServer): Promise<BenchTable> => {
  const [user, sales, finance, relations, warehouse] = await Promise.all([
    server.tokenFor('rt-user'),
    server.tokenFor('rt-sales', 'sales', 'supervisor'),
    server.tokenFor('rt-finance', 'finance'),
    server.tokenFor('rt-relations', 'customer-relations'),
    server.tokenFor('rt-warehouse', 'purchasing', 'warehouse'),
  ]);
  let keys = 0;
  const key = () => `rt-${Date.now()}-${keys++}`;
  const keyed = () => ({ 'idempotency-key': key() });
  const send = (
    token: string,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) =>
    server.call(token, method, path, {
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers } : {}),
    });
  const created = async (token: string, path: string, body: unknown) => {
    const answer = await send(token, 'POST', path, body);
    if (answer.status !== 201)
      throw new Error(`POST ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body as { id: string; lines?: { lineId: string }[] };
  };
  const annotation = () => created(user, '/annotations', { name: 'rt' });
  const order = () =>
    created(sales, '/orders', { customer: 'ACME', lines: [{ sku: 'A', quantity: 1, unitPrice: 100 }] });
  const account = () => created(finance, '/accounts', { name: 'rt', currency: 'EUR' });
  const funded = async () => {
    const { id } = await account();
    await send(finance, 'POST', `/accounts/${id}/deposits`, { amount: 1000 }, keyed());
    return id;
  };
  const line = { sku: 'B', quantity: 2, unitPrice: 50 };
  let articles = 0;

  const debtor = () => created(relations, '/debtors', { name: 'ACME' });
  const article = async () => {
    const sku = `RT-${Date.now()}-${articles++}`;
    await created(warehouse, '/articles', { id: sku, description: 'rt' });
    return sku;
  };
  const moved = async () => {
    const { id } = await annotation();
    await send(user, 'PATCH', `/annotations/${id}`, { name: 'v2' }, h(1));
    return id;
  };
  const locked = async () => {
    const id = (await annotation()).id;
    const answer = await send(user, 'POST', `/annotations/${id}/lock`);
    return { id, token: String(answer.body.token) };
  };
  const three = async () =>
    (await Promise.all([annotation(), annotation(), annotation()])).map(({ id }) => ({
      id,
      version: 1,
      set: { name: 'b' },
    }));
  const move = '1 transaction + 1 GetItem + 1 UpdateItem';
  /** A case: what to prepare, then the request counted, made from what was prepared. */
  const on =
    <T>(setup: () => Promise<T>, request: (prepared: T) => Promise<{ status: number }>) =>
    async () => {
      const prepared = await setup();
      return () => request(prepared);
    };
  const nothing = async () => undefined;
  const id = async () => (await annotation()).id;
  const orderId = async () => (await order()).id;
  const row = (
    route: string,
    status: number,
    [budget, budgetText]: [number, string],
    prepare: Case['prepare'],
    control = false,
  ): Case => ({ route, status, budget, budgetText, prepare, ...(control ? { control } : {}) });

  const cases: Case[] = [
    row(
      'GET /annotations/{id}',
      200,
      [1, '1'],
      on(id, (a) => send(user, 'GET', `/annotations/${a}`)),
    ),
    row(
      'POST /annotations',
      201,
      [1, '1 PutItem'],
      on(nothing, () => send(user, 'POST', '/annotations', { name: 'r' })),
    ),
    row(
      'POST /annotations, keyed',
      201,
      [1, '1 transaction'],
      on(nothing, () => send(user, 'POST', '/annotations', { name: 'r' }, keyed())),
    ),
    row(
      'PATCH /annotations/{id}',
      200,
      [1, '1 UpdateItem'],
      on(id, (a) => send(user, 'PATCH', `/annotations/${a}`, { name: 'p' }, h(1))),
    ),
    row(
      'PATCH /annotations/{id}, keyed',
      200,
      [2, '1 GetItem + 1 transaction'],
      on(id, (a) => send(user, 'PATCH', `/annotations/${a}`, { name: 'p' }, h(1, key()))),
    ),
    row(
      'PATCH /annotations/{id}, stale: 412 with `current`',
      412,
      [1, '1'],
      on(moved, (a) => send(user, 'PATCH', `/annotations/${a}`, { name: 'old' }, h(1))),
    ),
    row(
      'PATCH /annotations/{id}, stale, keyed',
      412,
      [2, '+ 1 GetItem of the key record'],
      on(moved, (a) => send(user, 'PATCH', `/annotations/${a}`, { name: 'old' }, h(1, key()))),
    ),
    row(
      'DELETE /annotations/{id}',
      204,
      [1, '1 UpdateItem'],
      on(id, (a) => send(user, 'DELETE', `/annotations/${a}`, undefined, h(1))),
    ),
    row(
      'DELETE /annotations/{id}, keyed',
      204,
      [1, '1 transaction'],
      on(id, (a) => send(user, 'DELETE', `/annotations/${a}`, undefined, h(1, key()))),
    ),
    row(
      'POST /annotations/{id}/lock',
      201,
      [1, '1 UpdateItem'],
      on(id, (a) => send(user, 'POST', `/annotations/${a}/lock`)),
    ),
    row(
      'PUT /annotations/{id}/lock (renew)',
      200,
      [1, '1 UpdateItem'],
      on(locked, ({ id, token }) =>
        send(user, 'PUT', `/annotations/${id}/lock`, undefined, { 'lock-token': token }),
      ),
    ),
    row(
      'DELETE /annotations/{id}/lock (release)',
      204,
      [1, '1 UpdateItem'],
      on(locked, ({ id, token }) =>
        send(user, 'DELETE', `/annotations/${id}/lock`, undefined, { 'lock-token': token }),
      ),
    ),
    row(
      'POST /annotations/batch, 3 items, not atomic',
      200,
      [3, 'n UpdateItems'],
      on(three, (updates) => send(user, 'POST', '/annotations/batch', { updates })),
    ),
    row(
      'POST /annotations/batch, 3 items, atomic',
      200,
      [1, '1 transaction'],
      on(three, (updates) => send(user, 'POST', '/annotations/batch', { atomic: true, updates })),
    ),
    row(
      'POST /orders',
      201,
      [1, '1 transaction'],
      on(nothing, () => send(sales, 'POST', '/orders', { customer: 'ACME', lines: [line] })),
    ),
    row(
      'GET /orders/{id}',
      200,
      [1, '1'],
      on(orderId, (o) => send(sales, 'GET', `/orders/${o}`)),
    ),
    row(
      'PATCH /orders/{id}',
      200,
      [1, '1 UpdateItem'],
      on(orderId, (o) => send(sales, 'PATCH', `/orders/${o}`, { notes: 'n' }, h(1))),
    ),
    row(
      'POST /orders/{id}/transitions',
      200,
      [1, '1 UpdateItem'],
      on(orderId, (o) => send(sales, 'POST', `/orders/${o}/transitions`, { to: 'approved' }, h(1))),
    ),
    row(
      'POST /orders/{id}/lines',
      201,
      [1, '1 transaction'],
      on(orderId, (o) => send(sales, 'POST', `/orders/${o}/lines`, line, h(1))),
    ),
    row(
      'POST /orders/{id}/lines, stale: 412 with the whole order',
      412,
      [2, '1 (+1 Query for the lines)'],
      on(orderId, (o) => send(sales, 'POST', `/orders/${o}/lines`, line, h(9))),
    ),
    row(
      'PATCH /orders/{id}/lines/{lineId}',
      200,
      [2, '1 Query + 1 transaction'],
      on(order, (o) =>
        send(sales, 'PATCH', `/orders/${o.id}/lines/${o.lines?.[0]?.lineId}`, { quantity: 3 }, h(1)),
      ),
    ),
    row(
      'PUT /orders/{id}',
      200,
      [2, '1 Query + 1 transaction'],
      on(orderId, (o) => send(sales, 'PUT', `/orders/${o}`, { customer: 'ACME', lines: [line, line] }, h(1))),
    ),
    row(
      'PATCH /debtors/{id}, one field group',
      200,
      [1, '1 UpdateItem per written group'],
      on(debtor, (d) =>
        send(relations, 'PATCH', `/debtors/${d.id}`, {
          base: { street: null, city: null, postalCode: null, country: null },
          set: { city: 'Bonn' },
        }),
      ),
    ),
    row(
      'POST /debtors/{id}/postings',
      201,
      [3, move],
      on(debtor, (d) =>
        send(finance, 'POST', `/debtors/${d.id}/postings`, { amount: 5, reference: 'r' }, keyed()),
      ),
    ),
    row(
      'POST /accounts/{id}/deposits',
      201,
      [3, move],
      on(account, (a) => send(finance, 'POST', `/accounts/${a.id}/deposits`, { amount: 5 }, keyed())),
    ),
    row(
      'POST /accounts/{id}/withdrawals',
      201,
      [3, move],
      on(funded, (a) => send(finance, 'POST', `/accounts/${a}/withdrawals`, { amount: 5 }, keyed())),
    ),
    row(
      'POST /transfers',
      201,
      [4, '1 transaction + 2 GetItems + 1 UpdateItem'],
      on(
        () => Promise.all([funded(), account()]),
        ([from, to]) => send(finance, 'POST', '/transfers', { from, to: to.id, amount: 5 }, keyed()),
      ),
    ),
    row(
      'POST /articles/{id}/stock-movements',
      201,
      [3, move],
      on(article, (sku) =>
        send(warehouse, 'POST', `/articles/${sku}/stock-movements`, { delta: 5, reason: 'rt' }, keyed()),
      ),
    ),
    row(
      'GET /annotations/{id} again (control)',
      200,
      [1, '1'],
      on(id, (a) => send(user, 'GET', `/annotations/${a}`)),
      true,
    ),
  ];

  const rows: BenchTable['rows'] = [];
  for (const entry of cases) {
    const request = await entry.prepare();
    const { result, commands } = await recordRequests(request);
    if (result.status !== entry.status)
      throw new Error(`${entry.route}: answered ${result.status}, not ${entry.status}`);
    rows.push({
      cells: [
        entry.route,
        String(result.status),
        entry.budgetText,
        `${commands.length}: ${commands.map((command) => command.replace(/Command$/, '')).join(' + ')}`,
        ratio(commands.length, entry.budget),
        commands.length <= entry.budget ? 'yes' : '**no**',
      ],
      ...(entry.control ? { control: true } : {}),
    });
  }
  return {
    id: 'round-trips',
    title: "6. Round trips per route vs the contract's budget",
    headers: [
      'request',
      'status',
      'budget (docs/semantics.md)',
      'measured',
      'measured vs budget',
      'within budget',
    ],
    rows,
    notes: [
      'Requests to DynamoDB, counted outside the SDK\'s own retries by the middleware the tests count with (test/support/sdk.ts); "keyed" = with an Idempotency-Key.',
    ],
  };
};
