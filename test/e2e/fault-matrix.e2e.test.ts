import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setClockOffset } from '../../lib/clock';
import { type CallResult, useApi } from '../support/api';
import { ok, storedItem, uniqueName } from '../support/fixtures';

import {
  type Fault,
  networkTimeout,
  throttled,
  transactionInProgress,
  withAppliedThenRefused,
  withFault,
} from '../support/sdk';
import { tableSnapshot } from '../support/table';

/**
 * The fault matrix: every write route × every fault DynamoDB Local never produces by
 * itself, with and without an Idempotency-Key, with a version and with `If-Match: *`.
 * Whatever the fault: never a 500, never applied twice, the record's version moves by
 * exactly one per applied change, and the answer tells the truth.
 *
 * Each route case measures a number that moves by exactly one each time its change is
 * applied (a version, a count of records), and has another user's write that moves it by
 * exactly one too (`interfere`), to land between a lost response and the SDK's retry.
 */
const api = useApi();
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const users: [string, string, ...string[]][] = [
    ['alice', 'alice', 'sales'],
    ['bob', 'bob', 'sales'],
    ['carol', 'carol', 'supervisor'],
    ['finance', 'fred', 'finance'],
    ['warehouse', 'walt', 'warehouse'],
    ['relations', 'rita', 'customer-relations'],
    ['purchasing', 'pia', 'purchasing'],
  ];
  for (const [name, sub, ...groups] of users) tokens[name] = await api.tokenFor(sub, ...(groups as never[]));
});

afterEach(() => {
  setClockOffset(0);
  vi.restoreAllMocks();
});

const next = uniqueName;

const versionOf = async (type: string, id: string) => Number((await storedItem(type, id)).version ?? 0);

interface Variant {
  keyed: boolean;
  star: boolean;
}

interface Prepared {
  /** The request under test; `headers` adds the Idempotency-Key of the variant. */
  send: (headers: Record<string, string>) => Promise<CallResult>;
  /** Moves by exactly one per application of the change, and per `interfere`. */
  measure: () => Promise<number>;
  /** Another user's write, moving `measure` by one; absent where no other user can write. */
  interfere?: () => Promise<void>;
  /**
   * Another user's write into the window this variant's own attempt is recognised in (a
   * versioned write for a versioned change, an `If-Match: *` or field-group write for a change
   * without a version, a lock operation for a lock's); gets the request's input, moves
   * `measure` by `moves`. Absent where the attempt is recognised by DynamoDB itself (a
   * transaction's token).
   */
  pushOut?: { write: (input: Record<string, unknown>) => Promise<void>; moves: number };
  /** Another user's lock operation on the record: it moves nothing a data write is recognised by. */
  lockOp?: (input: Record<string, unknown>) => Promise<void>;
}

/** How many writes by others a prepared record takes (`interfere`): as many as a test needs, unless said. */
const MANY = 25;

/**
 * How a keyless single-item write recognises its own earlier attempt: a create by a mark it
 * keeps for good, a versioned change by the version it produced, a change without a version
 * and a lock operation each in a window of their own. Keyed requests and transactions are
 * recognised by DynamoDB itself (the transaction's token).
 */
type Keyless = 'create' | 'versioned' | 'unversioned' | 'lock';

interface RouteCase {
  route: string;
  /** What the route's keyless single-item write is; absent for routes that are transactions. */
  keyless?: Keyless;
  /** The success body is the record as it is now (so `Applied-Version` when others wrote since). */
  answersRecord?: boolean;
  /** False where no window can be pushed past (a deleted record, an order that moves on once). */
  pushable?: boolean;
  /** Others may lock the record while the change is in flight (`lockOp`). */
  lockable?: boolean;
  status: number;
  /** The route takes `If-Match` (and so `If-Match: *`). */
  versioned: boolean;
  /** The route requires an Idempotency-Key. */
  keyRequired?: boolean;
  /** The DynamoDB command that makes the change. */
  command: (variant: Variant) => string;
  /** How far one application moves `measure` (a lock renewal or release moves nothing). */
  applied?: number;
  /**
   * How many times `interfere` may run on one prepared record: 0 where nobody else may write
   * (a deleted record, a locked one), 1 where the first write changes what others may do.
   */
  others?: number;
  /**
   * Failures past every retry are answered item by item, in a 200 (a batch that is not
   * atomic), rather than as the whole answer.
   */
  itemByItem?: (variant: Variant, fault: 'contention' | 'throttling') => boolean;
  prepare: (variant: Variant) => Promise<Prepared>;
}

const precondition = (variant: Variant, version: number) => ({
  'if-match': variant.star ? '*' : `"${version}"`,
});
const single = (update: string) => (variant: Variant) =>
  variant.keyed ? 'TransactWriteItemsCommand' : update;
const transaction = () => 'TransactWriteItemsCommand';

const createAnnotation = async (name = 'n') =>
  ok(await api.call('POST', '/annotations', { token: tokens.alice, body: { name } }), 201).id as string;
const touchAnnotation = async (id: string) => {
  ok(
    await api.call('PATCH', `/annotations/${id}`, {
      token: tokens.bob,
      headers: { 'if-match': '*' },
      body: { description: next('bob') },
    }),
    200,
  );
};

const createOrder = async () =>
  ok(
    await api.call('POST', '/orders', {
      token: tokens.alice,
      body: {
        customer: 'Matrix GmbH',
        lines: [
          { sku: 'A-1', quantity: 1, unitPrice: 100 },
          { sku: 'B-2', quantity: 2, unitPrice: 50 },
        ],
      },
    }),
    201,
  ) as { id: string; lines: { lineId: string }[] };
const touchOrder = async (id: string) => {
  ok(
    await api.call('PATCH', `/orders/${id}`, {
      token: tokens.bob,
      headers: { 'if-match': '*' },
      body: { notes: next('bob') },
    }),
    200,
  );
};

const createDebtor = async () =>
  ok(
    await api.call('POST', '/debtors', { token: tokens.relations, body: { name: 'ACME', city: 'Oslo' } }),
    201,
  ).id as string;
const post = async (id: string) => {
  ok(
    await api.call('POST', `/debtors/${id}/postings`, {
      token: tokens.finance,
      headers: { 'idempotency-key': next('posting') },
      body: { amount: 7, reference: 'other' },
    }),
    201,
  );
};

const createAccount = async () =>
  ok(
    await api.call('POST', '/accounts', { token: tokens.finance, body: { name: 'Cash', currency: 'EUR' } }),
    201,
  ).id as string;
const deposit = async (id: string, amount = 1000) => {
  ok(
    await api.call('POST', `/accounts/${id}/deposits`, {
      token: tokens.finance,
      headers: { 'idempotency-key': next('deposit') },
      body: { amount },
    }),
    201,
  );
};

const createArticle = async () => {
  const sku = next('SKU').toUpperCase();
  ok(
    await api.call('POST', '/articles', { token: tokens.purchasing, body: { id: sku, description: 'Bolt' } }),
    201,
  );
  ok(
    await api.call('POST', `/articles/${sku}/stock-movements`, {
      token: tokens.warehouse,
      headers: { 'idempotency-key': next('stock') },
      body: { delta: 100, reason: 'initial' },
    }),
    201,
  );
  return sku;
};

const countNamed = async (field: string, value: string) =>
  (await tableSnapshot()).filter((item) => item[field] === value).length;

/** The id of the record a keyless create puts (the input as the SDK middleware sees it). */
const createdId = (input: Record<string, unknown>): string => {
  const id = (input.Item as Record<string, unknown>).id as string | { S: string };
  return typeof id === 'string' ? id : id.S;
};
const etagVersion = (answer: CallResult) => Number(answer.headers.get('etag')?.replaceAll('"', ''));

/** Another user's versioned change (If-Match: the version there is) of a record. */
const bump = async (path: string, field: string) => {
  const current = await api.call('GET', path, { token: tokens.bob });
  ok(
    await api.call('PATCH', path, {
      token: tokens.bob,
      headers: { 'if-match': `"${etagVersion(current)}"` },
      body: { [field]: next('bob') },
    }),
    200,
  );
};
const bumpAnnotation = (id: string) => bump(`/annotations/${id}`, 'description');
const bumpOrder = (id: string) => bump(`/orders/${id}`, 'notes');
/** A supervisor breaking the record's lock (whether or not one is held): a lock operation. */
const breakLock = (resource: string, id: string) => async () => {
  ok(await api.call('DELETE', `/${resource}/${id}/lock`, { token: tokens.carol }), 204);
};
/** Finance changing a debtor's credit group: a field-group write of another group. */
const raiseCredit = async (id: string) => {
  const current = (await api.call('GET', `/debtors/${id}`, { token: tokens.finance })).body;
  const base = {
    creditLimit: current.creditLimit ?? null,
    paymentTermsDays: current.paymentTermsDays ?? null,
  };
  ok(
    await api.call('PATCH', `/debtors/${id}`, {
      token: tokens.finance,
      body: { base, set: { creditLimit: (current.creditLimit ?? 0) + 1 } },
    }),
    200,
  );
};

const cases: RouteCase[] = [
  {
    route: 'POST /annotations',
    status: 201,
    versioned: false,
    lockable: true,
    keyless: 'create',
    command: single('PutItemCommand'),
    prepare: async () => {
      const name = next('created');
      return {
        send: (headers) => api.call('POST', '/annotations', { token: tokens.alice, headers, body: { name } }),
        measure: () => countNamed('name', name),
        interfere: async () => {
          ok(await api.call('POST', '/annotations', { token: tokens.bob, body: { name } }), 201);
        },
        pushOut: { write: (input) => bumpAnnotation(createdId(input)), moves: 0 },
        lockOp: (input) => breakLock('annotations', createdId(input))(),
      };
    },
  },
  ...(['PUT', 'PATCH'] as const).map(
    (method): RouteCase => ({
      route: `${method} /annotations/{id}`,
      status: 200,
      versioned: true,
      lockable: true,
      keyless: 'versioned',
      answersRecord: true,
      command: single('UpdateItemCommand'),
      prepare: async (variant) => {
        const id = await createAnnotation();
        return {
          send: (headers) =>
            api.call(method, `/annotations/${id}`, {
              token: tokens.alice,
              headers: { ...precondition(variant, 1), ...headers },
              body: { name: 'mine' },
            }),
          measure: () => versionOf('ANNOTATION', id),
          interfere: () => touchAnnotation(id),
          pushOut: { write: () => (variant.star ? touchAnnotation(id) : bumpAnnotation(id)), moves: 1 },
          lockOp: breakLock('annotations', id),
        };
      },
    }),
  ),
  {
    route: 'DELETE /annotations/{id}',
    status: 204,
    versioned: true,
    keyless: 'versioned',
    others: 0,
    pushable: false,
    command: single('UpdateItemCommand'),
    prepare: async (variant) => {
      const id = await createAnnotation();
      return {
        send: (headers) =>
          api.call('DELETE', `/annotations/${id}`, {
            token: tokens.alice,
            headers: { ...precondition(variant, 1), ...headers },
          }),
        measure: () => versionOf('ANNOTATION', id),
        interfere: () => touchAnnotation(id),
      };
    },
  },
  ...[false, true].map(
    (atomic): RouteCase => ({
      route: `POST /annotations/batch (${atomic ? 'atomic' : 'not atomic'})`,
      status: 200,
      versioned: false,
      lockable: true,
      ...(atomic ? {} : { keyless: 'versioned' as const }),
      // With a key the batch first reads its key's record: throttled, that is the whole answer.
      itemByItem: (variant, fault) => !atomic && (!variant.keyed || fault === 'contention'),
      command: atomic ? transaction : single('UpdateItemCommand'),
      prepare: async () => {
        const ids = [await createAnnotation('a'), await createAnnotation('b')];
        return {
          send: (headers) =>
            api.call('POST', '/annotations/batch', {
              token: tokens.alice,
              headers,
              body: { atomic, updates: ids.map((id) => ({ id, version: 1, set: { name: 'batched' } })) },
            }),
          measure: () => versionOf('ANNOTATION', ids[0] as string),
          interfere: () => touchAnnotation(ids[0] as string),
          pushOut: { write: () => bumpAnnotation(ids[0] as string), moves: 1 },
          lockOp: breakLock('annotations', ids[0] as string),
        };
      },
    }),
  ),
  {
    // A natural key: the SDK's retry of a create must not meet its own record as "taken".
    route: 'POST /articles',
    status: 201,
    versioned: false,
    keyless: 'create',
    command: single('PutItemCommand'),
    prepare: async () => {
      const sku = next('NEW').toUpperCase();
      return {
        send: (headers) =>
          api.call('POST', '/articles', {
            token: tokens.purchasing,
            headers,
            body: { id: sku, description: 'New' },
          }),
        measure: () => versionOf('ARTICLE', sku),
        interfere: async () => {
          ok(
            await api.call('POST', `/articles/${sku}/stock-movements`, {
              token: tokens.warehouse,
              headers: { 'idempotency-key': next('stock') },
              body: { delta: 1, reason: 'other' },
            }),
            201,
          );
        },
        pushOut: {
          write: async () => {
            const current = (await api.call('GET', `/articles/${sku}`, { token: tokens.purchasing })).body;
            ok(
              await api.call('PATCH', `/articles/${sku}`, {
                token: tokens.purchasing,
                body: { base: { description: current.description }, set: { description: next('text') } },
              }),
              200,
            );
          },
          moves: 1,
        },
      };
    },
  },
  {
    route: 'POST /orders',
    status: 201,
    versioned: false,
    command: transaction,
    prepare: async () => {
      const customer = next('customer');
      return {
        send: (headers) =>
          api.call('POST', '/orders', {
            token: tokens.alice,
            headers,
            body: { customer, lines: [{ sku: 'A-1', quantity: 1, unitPrice: 5 }] },
          }),
        measure: () => countNamed('customer', customer),
        interfere: async () => {
          ok(await api.call('POST', '/orders', { token: tokens.bob, body: { customer } }), 201);
        },
      };
    },
  },
  {
    route: 'PUT /orders/{id}',
    status: 200,
    versioned: true,
    command: transaction,
    prepare: async (variant) => {
      const order = await createOrder();
      return {
        send: (headers) =>
          api.call('PUT', `/orders/${order.id}`, {
            token: tokens.alice,
            headers: { ...precondition(variant, 1), ...headers },
            body: {
              customer: 'Replaced',
              lines: [{ lineId: order.lines[0]?.lineId, sku: 'A-1', quantity: 9, unitPrice: 100 }],
            },
          }),
        measure: () => versionOf('ORDER', order.id),
        interfere: () => touchOrder(order.id),
      };
    },
  },
  {
    route: 'PATCH /orders/{id}',
    status: 200,
    versioned: true,
    lockable: true,
    keyless: 'versioned',
    answersRecord: true,
    command: single('UpdateItemCommand'),
    prepare: async (variant) => {
      const order = await createOrder();
      return {
        send: (headers) =>
          api.call('PATCH', `/orders/${order.id}`, {
            token: tokens.alice,
            headers: { ...precondition(variant, 1), ...headers },
            body: { customer: 'Patched' },
          }),
        measure: () => versionOf('ORDER', order.id),
        interfere: () => touchOrder(order.id),
        pushOut: { write: () => (variant.star ? touchOrder(order.id) : bumpOrder(order.id)), moves: 1 },
        lockOp: breakLock('orders', order.id),
      };
    },
  },
  {
    route: 'POST /orders/{id}/lines',
    status: 201,
    versioned: true,
    command: transaction,
    prepare: async (variant) => {
      const order = await createOrder();
      return {
        send: (headers) =>
          api.call('POST', `/orders/${order.id}/lines`, {
            token: tokens.alice,
            headers: { ...precondition(variant, 1), ...headers },
            body: { sku: 'C-3', quantity: 3, unitPrice: 10 },
          }),
        measure: () => versionOf('ORDER', order.id),
        interfere: () => touchOrder(order.id),
      };
    },
  },
  ...(['PATCH', 'DELETE'] as const).map(
    (method): RouteCase => ({
      route: `${method} /orders/{id}/lines/{lineId}`,
      status: 200,
      versioned: true,
      command: transaction,
      prepare: async (variant) => {
        const order = await createOrder();
        return {
          send: (headers) =>
            api.call(method, `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
              token: tokens.alice,
              headers: { ...precondition(variant, 1), ...headers },
              ...(method === 'PATCH' ? { body: { quantity: 42 } } : {}),
            }),
          measure: () => versionOf('ORDER', order.id),
          interfere: () => touchOrder(order.id),
        };
      },
    }),
  ),
  {
    route: 'POST /orders/{id}/transitions',
    status: 200,
    versioned: true,
    lockable: true,
    keyless: 'versioned',
    answersRecord: true,
    // Once approved, the order takes one more move: its cancellation.
    others: 1,
    pushable: false,
    command: single('UpdateItemCommand'),
    prepare: async (variant) => {
      const order = await createOrder();
      return {
        send: (headers) =>
          api.call('POST', `/orders/${order.id}/transitions`, {
            token: tokens.carol,
            headers: { ...precondition(variant, 1), ...headers },
            body: { to: 'approved' },
          }),
        measure: () => versionOf('ORDER', order.id),
        interfere: async () => {
          ok(
            await api.call('POST', `/orders/${order.id}/transitions`, {
              token: tokens.bob,
              headers: { 'if-match': '*' },
              body: { to: 'cancelled' },
            }),
            200,
          );
        },
        lockOp: breakLock('orders', order.id),
      };
    },
  },
  {
    route: 'PATCH /debtors/{id}',
    status: 200,
    versioned: false,
    keyless: 'unversioned',
    command: single('UpdateItemCommand'),
    prepare: async () => {
      const id = await createDebtor();
      return {
        send: (headers) =>
          api.call('PATCH', `/debtors/${id}`, {
            token: tokens.relations,
            headers,
            body: {
              base: { street: null, city: 'Oslo', postalCode: null, country: null },
              set: { city: 'Bergen' },
            },
          }),
        measure: () => versionOf('DEBTOR', id),
        interfere: () => post(id),
        pushOut: { write: () => raiseCredit(id), moves: 1 },
      };
    },
  },
  {
    route: 'POST /debtors/{id}/postings',
    status: 201,
    versioned: false,
    keyRequired: true,
    command: transaction,
    prepare: async () => {
      const id = await createDebtor();
      return {
        send: (headers) =>
          api.call('POST', `/debtors/${id}/postings`, {
            token: tokens.finance,
            headers,
            body: { amount: 250, reference: 'INV-1' },
          }),
        measure: () => versionOf('DEBTOR', id),
        interfere: () => post(id),
      };
    },
  },
  {
    route: 'POST /articles/{id}/stock-movements',
    status: 201,
    versioned: false,
    keyRequired: true,
    command: transaction,
    prepare: async () => {
      const sku = await createArticle();
      const move = (headers: Record<string, string>, delta: number) =>
        api.call('POST', `/articles/${sku}/stock-movements`, {
          token: tokens.warehouse,
          headers,
          body: { delta, reason: 'picked' },
        });
      return {
        send: (headers) => move(headers, -3),
        measure: () => versionOf('ARTICLE', sku),
        interfere: async () => {
          ok(await move({ 'idempotency-key': next('other-move') }, -1), 201);
        },
      };
    },
  },
  ...(['deposits', 'withdrawals'] as const).map(
    (kind): RouteCase => ({
      route: `POST /accounts/{id}/${kind}`,
      status: 201,
      versioned: false,
      keyRequired: true,
      command: transaction,
      prepare: async () => {
        const id = await createAccount();
        await deposit(id);
        return {
          send: (headers) =>
            api.call('POST', `/accounts/${id}/${kind}`, {
              token: tokens.finance,
              headers,
              body: { amount: 30 },
            }),
          measure: () => versionOf('ACCOUNT', id),
          interfere: () => deposit(id, 5),
        };
      },
    }),
  ),
  {
    route: 'POST /transfers',
    status: 201,
    versioned: false,
    keyRequired: true,
    command: transaction,
    prepare: async () => {
      const [from, to] = [await createAccount(), await createAccount()];
      await deposit(from);
      return {
        send: (headers) =>
          api.call('POST', '/transfers', { token: tokens.finance, headers, body: { from, to, amount: 40 } }),
        measure: () => versionOf('ACCOUNT', to),
        interfere: () => deposit(to, 5),
      };
    },
  },
  {
    route: 'POST /annotations/{id}/lock',
    status: 201,
    versioned: false,
    keyless: 'lock',
    others: 0,
    command: single('UpdateItemCommand'),
    prepare: async () => {
      const id = await createAnnotation();
      return {
        send: (headers) =>
          api.call('POST', `/annotations/${id}/lock`, {
            token: tokens.alice,
            headers,
            body: { ttlSeconds: 60 },
          }),
        measure: async () => Number((await storedItem('ANNOTATION', id)).lockFence ?? 0),
        pushOut: { write: breakLock('annotations', id), moves: 0 },
      };
    },
  },
  ...(['PUT', 'DELETE'] as const).map(
    (method): RouteCase => ({
      route: `${method} /annotations/{id}/lock`,
      status: method === 'PUT' ? 200 : 204,
      versioned: false,
      keyless: 'lock',
      applied: 0,
      others: 0,
      command: single('UpdateItemCommand'),
      prepare: async () => {
        const id = await createAnnotation();
        const lease = ok(
          await api.call('POST', `/annotations/${id}/lock`, {
            token: tokens.alice,
            body: { ttlSeconds: 60 },
          }),
          201,
        );
        return {
          send: (headers) =>
            api.call(method, `/annotations/${id}/lock`, {
              token: tokens.alice,
              headers: { 'lock-token': lease.token, ...headers },
              ...(method === 'PUT' ? { body: { ttlSeconds: 300 } } : {}),
            }),
          // A renewal or a release changes neither version nor fence: nothing else may move.
          measure: async () => {
            const item = await storedItem('ANNOTATION', id);
            return Number(item.version) + Number(item.lockFence);
          },
          pushOut: { write: breakLock('annotations', id), moves: 0 },
        };
      },
    }),
  ),
];

const variantsOf = (routeCase: RouteCase): Variant[] =>
  [
    { keyed: false, star: false },
    { keyed: true, star: false },
    { keyed: false, star: true },
    { keyed: true, star: true },
  ].filter((variant) => (routeCase.versioned || !variant.star) && (!routeCase.keyRequired || variant.keyed));

const label = (variant: Variant) =>
  `${variant.keyed ? 'keyed' : 'no key'}${variant.star ? ', If-Match: *' : ''}`;

const conflictError = (command: string) => () =>
  command === 'TransactWriteItemsCommand'
    ? Object.assign(new Error('Transaction cancelled'), {
        name: 'TransactionCanceledException',
        $retryable: undefined,
        CancellationReasons: [{ Code: 'TransactionConflict' }],
      })
    : Object.assign(new Error('Transaction is ongoing for the item'), {
        name: 'TransactionConflictException',
        $retryable: undefined,
      });
const keyHeaders = (variant: Variant): Record<string, string> =>
  variant.keyed ? { 'idempotency-key': next('matrix') } : {};

/** Where this variant's own earlier attempt is recognised (see `Keyless`). */
const recognitionOf = (routeCase: RouteCase, variant: Variant) => {
  if (variant.keyed || !routeCase.keyless) return 'token';
  if (routeCase.keyless === 'versioned') return variant.star ? 'unversioned' : 'versioned';
  return routeCase.keyless;
};

/** Every recognition window holds this many attempts; one write more pushes the oldest out. */
const WINDOW = 8;
/** Past the ClientRequestToken's 10 minutes, by the clock every writer goes by. */
const PAST_TOKEN_WINDOW_MS = 10 * 60 * 1000 + 1000;

describe.each(cases)('fault matrix: $route', (routeCase) => {
  describe.each(variantsOf(routeCase).map((variant) => ({ variant, name: label(variant) })))(
    '$name',
    ({ variant }) => {
      const command = routeCase.command(variant);
      const applied = routeCase.applied ?? 1;
      /** A failure past every retry: the whole answer, or each item's in a 200. */
      const expectFailure = (result: CallResult, status: number, code: string) => {
        if (routeCase.itemByItem?.(variant, status === 503 ? 'throttling' : 'contention')) {
          expect(result.status).toBe(200);
          expect(
            result.body.results.map((item: { status: number; code: string }) => [item.status, item.code]),
          ).toEqual([
            [status, code],
            [status, code],
          ]);
          return;
        }
        expect([result.status, result.body.code, result.headers.get('retry-after')]).toEqual([
          status,
          code,
          '1',
        ]);
        expect(JSON.stringify(result.body)).not.toContain('Exception');
      };

      /**
       * The change sent once under `fault` (injected exactly once, after the write reached the
       * database): answered as the first attempt, no `Idempotent-Replayed`, and `measure`
       * moved by the change once plus `otherWrites`.
       */
      const appliedOnceUnder = async (
        fault: (target: Prepared) => Omit<Fault, 'when' | 'at' | 'times'>,
        otherWrites = 0,
      ) => {
        const target = await routeCase.prepare(variant);
        const before = await target.measure();
        const { result, injected } = await withFault(
          { when: (name) => name === command, at: 'after', times: 1, ...fault(target) },
          () => target.send(keyHeaders(variant)),
        );
        expect(injected).toBe(1);
        ok(result, routeCase.status);
        expect(result.headers.get('idempotent-replayed')).toBeNull();
        expect((await target.measure()) - before).toBe(applied + otherWrites);
        expectTrueBody(result, otherWrites);
      };

      const recognition = recognitionOf(routeCase, variant);
      const perItem = routeCase.route.includes('not atomic');

      /**
       * A success tells the truth about what it wrote: a create its record as created; a
       * record that others changed since this request wrote it is the record as it is now,
       * with its ETag and `Applied-Version`, the version this request wrote; every other
       * answer is the one this request's write made, and carries no `Applied-Version`.
       */
      const expectTrueBody = (result: CallResult, otherWrites: number) => {
        const changedSince =
          otherWrites > 0 &&
          routeCase.answersRecord === true &&
          (recognition === 'versioned' || recognition === 'unversioned');
        if (changedSince) {
          expect(result.body.version).toBe(etagVersion(result));
          expect(result.headers.get('applied-version')).toBe(String(etagVersion(result) - otherWrites));
        } else {
          expect(result.headers.get('applied-version')).toBeNull();
        }
        if (recognition === 'create') expect(result.body.version).toBe(1);
      };

      /** The answer: success (the status of the route), or 503 OUTCOME_UNKNOWN; a batch's first item's. */
      const expectOutcome = (result: CallResult, outcome: 'success' | 'unknown') => {
        if (perItem) {
          expect(result.status, JSON.stringify(result.body)).toBe(200);
          const first = result.body.results[0];
          expect(outcome === 'success' ? [first.status] : [first.status, first.code]).toEqual(
            outcome === 'success' ? [200] : [503, 'OUTCOME_UNKNOWN'],
          );
          return;
        }
        if (outcome === 'success') {
          ok(result, routeCase.status);
          expect(result.headers.get('idempotent-replayed')).toBeNull();
          return;
        }
        expect([result.status, result.body.code, result.headers.get('retry-after')]).toEqual([
          503,
          'OUTCOME_UNKNOWN',
          '1',
        ]);
        expect(JSON.stringify(result.body)).not.toContain('Exception');
      };

      /** The change sent once, its answer lost after it landed; `interlude` runs before the retry. */
      const lostAnswer = async (
        target: Prepared,
        interlude: (input: Record<string, unknown>) => Promise<void>,
      ) => {
        const { result, injected } = await withFault(
          {
            when: (name) => name === command,
            at: 'after',
            times: 1,
            error: networkTimeout,
            layer: 'inside-retries',
            interlude,
          },
          () => target.send(keyHeaders(variant)),
        );
        expect(injected).toBe(1);
        return result;
      };

      if (routeCase.pushable !== false) {
        // Past the window, the request cannot tell its own attempt from another: it says so,
        // and never applies again, never answers a false conflict. A create and a transaction
        // are recognised whatever others write.
        const expected = recognition === 'create' || recognition === 'token' ? 'success' : 'unknown';
        it(`past the recognition window by count (${WINDOW + 1} other writes before the retry): ${expected === 'success' ? 'recognised, applied once' : '503 OUTCOME_UNKNOWN, applied once'}`, async () => {
          const target = await routeCase.prepare(variant);
          const before = await target.measure();
          const push = target.pushOut ?? { write: () => target.interfere?.() as Promise<void>, moves: 1 };
          const result = await lostAnswer(target, async (input) => {
            for (let write = 0; write <= WINDOW; write += 1) await push.write(input);
          });
          expectOutcome(result, expected);
          expect((await target.measure()) - before).toBe(applied + (WINDOW + 1) * push.moves);
        });
      }

      // A transaction's token is recognised by DynamoDB for 10 minutes; a retry later than
      // that would be applied as new, so it is not sent: the outcome is unknown. Every other
      // window is bounded by writes, not by time.
      it(`past the recognition window by time (the clock 10 minutes on): ${recognition === 'token' ? '503 OUTCOME_UNKNOWN' : 'recognised'}, applied once`, async () => {
        const target = await routeCase.prepare(variant);
        const before = await target.measure();
        const result = await lostAnswer(target, async () => setClockOffset(PAST_TOKEN_WINDOW_MS));
        expectOutcome(result, recognition === 'token' ? 'unknown' : 'success');
        expect((await target.measure()) - before).toBe(applied);
      });

      if (routeCase.lockable)
        it('lock traffic by others before the retry pushes out nothing: recognised, applied once, answered as written', async () => {
          const target = await routeCase.prepare(variant);
          const before = await target.measure();
          const lockOp = target.lockOp as NonNullable<Prepared['lockOp']>;
          const result = await lostAnswer(target, async (input) => {
            for (let operation = 0; operation <= WINDOW; operation += 1) await lockOp(input);
          });
          expectOutcome(result, 'success');
          if (!perItem) expectTrueBody(result, 0);
          expect((await target.measure()) - before).toBe(applied);
        });

      if (command === 'TransactWriteItemsCommand') {
        it('TransactionInProgressException, then the transaction commits: re-sent under its token, applied once', async () => {
          const target = await routeCase.prepare(variant);
          const before = await target.measure();
          const { result, injected } = await withFault(
            {
              when: (name) => name === command,
              at: 'after',
              times: 2,
              error: transactionInProgress,
              layer: 'inside-retries',
            },
            () => target.send(keyHeaders(variant)),
          );
          expect(injected).toBe(2);
          expectOutcome(result, 'success');
          expect((await target.measure()) - before).toBe(applied);
        });

        it('TransactionInProgressException past every retry: 503 OUTCOME_UNKNOWN, never WRITE_CONTENTION, applied once', async () => {
          const target = await routeCase.prepare(variant);
          const before = await target.measure();
          const { result } = await withFault(
            {
              when: (name) => name === command,
              at: 'after',
              error: transactionInProgress,
              layer: 'inside-retries',
            },
            () => target.send(keyHeaders(variant)),
          );
          expectOutcome(result, 'unknown');
          expect((await target.measure()) - before).toBe(applied);
        });
      }

      it('applied, then throttled, and every confirmation throttled too: 503 OUTCOME_UNKNOWN, never THROTTLED, applied once', async () => {
        const target = await routeCase.prepare(variant);
        const before = await target.measure();
        const { result, applied: landed } = await withAppliedThenRefused(command, throttled, () =>
          target.send(keyHeaders(variant)),
        );
        expect(landed).toBe(1);
        expectOutcome(result, 'unknown');
        expect((await target.measure()) - before).toBe(applied);
      });

      it('the SDK retries a lost response: applied once, answered as the first attempt', () =>
        appliedOnceUnder(() => ({ error: networkTimeout, layer: 'inside-retries' })));

      const others = routeCase.others ?? MANY;
      // Where nobody else may write (a deleted or locked record), there is no one to land between.
      if (others > 0)
        it('another user writes between the lost response and the SDK retry: both applied, each once', () =>
          appliedOnceUnder(
            (target) => ({
              error: networkTimeout,
              layer: 'inside-retries',
              interlude: () => target.interfere?.() as Promise<void>,
            }),
            1,
          ));

      it('a collision with a transaction is retried: applied once', async () => {
        const target = await routeCase.prepare(variant);
        const before = await target.measure();
        const fault: Fault = {
          when: (name) => name === command,
          at: 'before',
          error: conflictError(command),
          layer: 'outside-retries',
          times: 1,
        };
        const { result, injected } = await withFault(fault, () => target.send(keyHeaders(variant)));
        expect(injected).toBe(1);
        ok(result, routeCase.status);
        expect((await target.measure()) - before).toBe(applied);
      });

      it('collisions that outlast the retries: 409 WRITE_CONTENTION with Retry-After, nothing applied', async () => {
        const target = await routeCase.prepare(variant);
        const before = await target.measure();
        const fault: Fault = {
          when: (name) => name === command,
          at: 'before',
          error: conflictError(command),
          layer: 'outside-retries',
        };
        const { result } = await withFault(fault, () => target.send(keyHeaders(variant)));
        expectFailure(result, 409, 'WRITE_CONTENTION');
        expect((await target.measure()) - before).toBe(0);
      });

      // The write reached the database, and what came back was throttling that outlasted the
      // SDK's retries (its first attempt landed, its response lost, every retry throttled):
      // the request must find its own write rather than answer 503.
      it('applied, then throttled past the SDK retries: applied once, answered as the first attempt', () =>
        appliedOnceUnder(() => ({ error: throttled, layer: 'outside-retries' })));

      it('throttling that outlasts the SDK retries: 503 THROTTLED with Retry-After, nothing applied', async () => {
        const target = await routeCase.prepare(variant);
        const before = await target.measure();
        const fault: Fault = { when: () => true, at: 'before', error: throttled, layer: 'outside-retries' };
        const { result } = await withFault(fault, () => target.send(keyHeaders(variant)));
        expectFailure(result, 503, 'THROTTLED');
        expect((await target.measure()) - before).toBe(0);
      });

      if (variant.keyed) {
        it(`repeated with its key after ${Math.min(others, MANY)} other writes: the first answer again, exactly, nothing applied`, async () => {
          const target = await routeCase.prepare(variant);
          const headers = keyHeaders(variant);
          const first = await target.send(headers);
          ok(first, routeCase.status);
          for (let write = 0; write < Math.min(others, MANY); write += 1) await target.interfere?.();
          const before = await target.measure();
          const repeat = await target.send(headers);
          expect([repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([
            routeCase.status,
            'true',
          ]);
          expect(repeat.text).toBe(first.text);
          expect(await target.measure()).toBe(before);
        });
      }
    },
  );
});

describe('a warm container that has recognised many lost answers', () => {
  // Each recognised lost answer once ended, inside the SDK, in a failed condition that spent
  // retry tokens never refunded; after some tens of them the SDK stopped retrying timeouts.
  it('still retries and recognises the next one: 80 lost answers, 80 changes applied once each', async () => {
    const id = await createAnnotation();
    const answers: number[] = [];
    for (let change = 1; change <= 80; change += 1) {
      const { result, injected } = await withFault(
        {
          when: (name) => name === 'UpdateItemCommand',
          at: 'after',
          times: 1,
          error: networkTimeout,
          layer: 'inside-retries',
        },
        () =>
          api.call('PATCH', `/annotations/${id}`, {
            token: tokens.alice,
            headers: { 'if-match': `"${change}"` },
            body: { description: `change ${change}` },
          }),
      );
      expect(injected).toBe(1);
      answers.push(result.status);
    }
    expect(answers).toEqual(Array.from({ length: 80 }, () => 200));
    expect(await versionOf('ANNOTATION', id)).toBe(81);
  });
});
