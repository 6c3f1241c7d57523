import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CallResult, useApi } from '../support/api';
import { ok, storedItem, uniqueName } from '../support/fixtures';

import {
  type Fault,
  interleave,
  internalServerError,
  networkTimeout,
  throttled,
  withFault,
} from '../support/sdk';

/**
 * A fault and something else at once: another user's write, a lock broken and retaken, a
 * failure of one part of a request made of parts. Each case is an interleaving the fault
 * matrix does not reach, and each test states the answer the contract requires.
 */
const api = useApi();
const tokens: Record<string, string> = {};

beforeAll(async () => {
  tokens.alice = await api.tokenFor('alice', 'sales');
  tokens.bob = await api.tokenFor('bob', 'sales');
  tokens.carol = await api.tokenFor('carol', 'supervisor');
  tokens.finance = await api.tokenFor('fred', 'finance');
  tokens.both = await api.tokenFor('bea', 'customer-relations', 'finance');
});

afterEach(() => vi.restoreAllMocks());

const next = uniqueName;

const createAnnotation = async () =>
  ok(await api.call('POST', '/annotations', { token: tokens.alice, body: { name: 'locked' } }), 201)
    .id as string;

/** The response of the first lock write is lost; before the SDK re-sends it, a supervisor breaks the lock and Bob takes it. */
const lostWhileRetaken = (id: string, bob: { lease?: Record<string, unknown> }): Fault => ({
  when: (command) => command === 'UpdateItemCommand',
  at: 'after',
  error: networkTimeout,
  layer: 'inside-retries',
  times: 1,
  interlude: async () => {
    ok(await api.call('DELETE', `/annotations/${id}/lock`, { token: tokens.carol }), 204);
    bob.lease = ok(
      await api.call('POST', `/annotations/${id}/lock`, { token: tokens.bob, body: { ttlSeconds: 300 } }),
      201,
    );
  },
});

describe('a lock write recognised as applied, whose lock was broken and retaken before the retry', () => {
  it('a renewal answers as it was applied, with its own lease, never the new holder’s; a write with its token is refused', async () => {
    const id = await createAnnotation();
    const alice = ok(
      await api.call('POST', `/annotations/${id}/lock`, { token: tokens.alice, body: { ttlSeconds: 60 } }),
      201,
    );
    const bob: { lease?: Record<string, unknown> } = {};
    const { result, injected } = await withFault(lostWhileRetaken(id, bob), () =>
      api.call('PUT', `/annotations/${id}/lock`, {
        token: tokens.alice,
        headers: { 'lock-token': alice.token },
        body: { ttlSeconds: 120 },
      }),
    );
    expect(injected).toBe(1);
    expect([
      result.status,
      result.body.token,
      result.body.owner,
      result.body.acquiredAt,
      result.body.fence,
      JSON.stringify(result.body).includes(String(bob.lease?.token)),
    ]).toEqual([200, alice.token, 'alice', alice.acquiredAt, alice.fence, false]);
    const write = await api.call('PATCH', `/annotations/${id}`, {
      token: tokens.alice,
      headers: { 'if-match': '*', 'lock-token': alice.token },
      body: { name: 'under bob’s lock' },
    });
    expect([write.status, write.body.code]).toEqual([423, 'LOCKED']);
    const stored = await storedItem('ANNOTATION', id);
    expect([stored.name, stored.lock?.owner, stored.lockFence]).toEqual(['locked', 'bob', 2]);
  });

  it('an acquisition answers as it was applied, with its own lease and fence, never one another holds', async () => {
    const id = await createAnnotation();
    const bob: { lease?: Record<string, unknown> } = {};
    const { result, injected } = await withFault(lostWhileRetaken(id, bob), () =>
      api.call('POST', `/annotations/${id}/lock`, { token: tokens.alice, body: { ttlSeconds: 60 } }),
    );
    expect(injected).toBe(1);
    expect([result.status, result.body.owner, result.body.fence, bob.lease?.fence]).toEqual([
      201,
      'alice',
      1,
      2,
    ]);
    expect(result.body.token).not.toBe(bob.lease?.token);
    const stored = await storedItem('ANNOTATION', id);
    expect([stored.lock?.owner, stored.lock?.token, stored.lockFence]).toEqual(['bob', bob.lease?.token, 2]);
  });
});

const openAccount = async () =>
  ok(
    await api.call('POST', '/accounts', { token: tokens.finance, body: { name: 'Till', currency: 'EUR' } }),
    201,
  ).id as string;
const deposit = (id: string, amount: number, key: string) =>
  api.call('POST', `/accounts/${id}/deposits`, {
    token: tokens.finance,
    headers: { 'idempotency-key': key },
    body: { amount },
  });
const balanceOf = async (id: string) => Number((await storedItem('ACCOUNT', id)).balance);

describe('a movement’s answer is given only once it is kept, and only one is ever kept', () => {
  it('a repeat sent after the commit, before the first keeps its answer: both answer the one kept, and so does every later repeat', async () => {
    const id = await openAccount();
    ok(await deposit(id, 1000, next('seed')), 201);
    const key = next('dup');
    let duplicate: CallResult | undefined;
    // The first has committed and read its balance (1030); just before it keeps its answer,
    // another teller deposits 5 and the client's duplicate of the first arrives, reads 1035
    // and keeps that answer first.
    const { result: first, interleaved } = await interleave(
      'UpdateItemCommand',
      async () => {
        ok(await deposit(id, 5, next('other')), 201);
        duplicate = await deposit(id, 30, key);
      },
      () => deposit(id, 30, key),
    );
    expect(interleaved).toBe(1);
    const later = await deposit(id, 30, key);
    expect([
      [first.status, first.headers.get('idempotent-replayed'), first.body.balance],
      [duplicate?.status, duplicate?.headers.get('idempotent-replayed'), duplicate?.text === first.text],
      [later.status, later.headers.get('idempotent-replayed'), later.text === first.text],
      await balanceOf(id),
    ]).toEqual([[201, null, 1035], [201, 'true', true], [201, 'true', true], 1035]);
  });

  it.each([
    ['keeping the answer', 'UpdateItemCommand'],
    ['reading the balance for it', 'GetItemCommand'],
  ])(
    'throttled after the commit, %s: 503 OUTCOME_UNKNOWN, and the first repeat keeps the answer for all; applied once',
    async (_, command) => {
      const id = await openAccount();
      ok(await deposit(id, 1000, next('seed')), 201);
      const key = next('unkept');
      const { result: first, injected } = await withFault(
        { when: (name) => name === command, at: 'before', error: throttled, layer: 'outside-retries' },
        () => deposit(id, 30, key),
      );
      expect(injected).toBeGreaterThan(0);
      const repeat = await deposit(id, 30, key);
      ok(await deposit(id, 5, next('other')), 201);
      const again = await deposit(id, 30, key);
      expect([
        [first.status, first.body.code, first.headers.get('retry-after')],
        [repeat.status, repeat.headers.get('idempotent-replayed'), repeat.body.balance],
        again.text === repeat.text,
        await balanceOf(id),
      ]).toEqual([[503, 'OUTCOME_UNKNOWN', '1'], [201, 'true', 1030], true, 1035]);
    },
  );
});

const annotations = async (count: number) => {
  const ids: string[] = [];
  for (let n = 0; n < count; n += 1)
    ids.push(
      ok(await api.call('POST', '/annotations', { token: tokens.alice, body: { name: `a${n}` } }), 201).id,
    );
  return ids;
};
const batch = (ids: readonly string[], key: string, name = 'batched') =>
  api.call('POST', '/annotations/batch', {
    token: tokens.alice,
    headers: { 'idempotency-key': key },
    body: { updates: ids.map((id) => ({ id, version: 1, set: { name } })) },
  });

describe('a request made of parts runs once under its key', () => {
  it('different batches sent at once under one key: one is applied, the others are refused and write nothing', async () => {
    const ids = await annotations(4);
    const key = next('shared');
    const answers = await Promise.all(ids.map((id) => batch([id], key)));
    const applied = answers.flatMap((answer, index) => (answer.status === 200 ? [index] : []));
    const refused = answers.filter((answer) => answer.status !== 200);
    const versions = await Promise.all(
      ids.map(async (id) => Number((await storedItem('ANNOTATION', id)).version)),
    );
    expect([
      applied.length,
      refused.every((answer) =>
        ['IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_IN_PROGRESS'].includes(answer.body.code),
      ),
      versions.map((version, index) => version === (applied.includes(index) ? 2 : 1)),
    ]).toEqual([1, true, [true, true, true, true]]);
    // Each repeated on its own: the applied one gets its answer again, the others 422.
    const repeats = await Promise.all(ids.map((id) => batch([id], key)));
    expect(repeats.map((answer) => answer.status)).toEqual(
      ids.map((_, index) => (applied.includes(index) ? 200 : 422)),
    );
    const [first] = applied as [number];
    expect(repeats[first]?.text).toBe(answers[first]?.text);
  });

  it('the same batch sent again while the first runs: 409 IDEMPOTENCY_IN_PROGRESS, writing nothing; once done, its repeat is the answer', async () => {
    const ids = await annotations(2);
    const key = next('twin');
    let twin: CallResult | undefined;
    // The twin arrives while the first is writing its items.
    const { result: first, interleaved } = await interleave(
      'TransactWriteItemsCommand',
      async () => {
        twin = await batch(ids, key);
      },
      () => batch(ids, key),
    );
    expect(interleaved).toBe(1);
    const repeat = await batch(ids, key);
    expect([
      first.status,
      [twin?.status, twin?.body.code, twin?.headers.get('retry-after')],
      [repeat.status, repeat.headers.get('idempotent-replayed'), repeat.text === first.text],
      await Promise.all(ids.map(async (id) => Number((await storedItem('ANNOTATION', id)).version))),
    ]).toEqual([200, [409, 'IDEMPOTENCY_IN_PROGRESS', '1'], [200, 'true', true], [2, 2]]);
  });

  it('a batch whose answer could not be kept: 503 OUTCOME_UNKNOWN; its repeat runs again at once, each item once; another batch under the key is 422', async () => {
    const ids = await annotations(2);
    const key = next('unkept-batch');
    const { result: first, injected } = await withFault(
      {
        when: (name, input) => name === 'UpdateItemCommand' && JSON.stringify(input).includes('keptBy'),
        at: 'before',
        error: throttled,
        layer: 'outside-retries',
      },
      () => batch(ids, key),
    );
    expect(injected).toBeGreaterThan(0);
    const repeat = await batch(ids, key);
    const other = await batch(ids, key, 'another');
    expect([
      [first.status, first.body.code],
      [
        repeat.status,
        repeat.body.results.map((item: { status: number; version: number }) => [item.status, item.version]),
      ],
      [other.status, other.body.code],
      await Promise.all(ids.map(async (id) => Number((await storedItem('ANNOTATION', id)).version))),
    ]).toEqual([
      [503, 'OUTCOME_UNKNOWN'],
      [
        200,
        [
          [200, 2],
          [200, 2],
        ],
      ],
      [422, 'IDEMPOTENCY_KEY_REUSED'],
      [2, 2],
    ]);
  });

  it('a full keyed batch of 100 items is applied, and its repeat is its answer', async () => {
    const ids = await annotations(100);
    const key = next('hundred');
    const first = await batch(ids, key);
    const repeat = await batch(ids, key);
    expect([
      first.status,
      first.body.results.filter((result: { status: number }) => result.status === 200).length,
      repeat.status,
      repeat.headers.get('idempotent-replayed'),
      repeat.text === first.text,
    ]).toEqual([200, 100, 200, 'true', true]);
  });

  it('an item that meets a DynamoDB 500 fails by itself: 200, that item 500 INTERNAL, the other applied', async () => {
    const ids = await annotations(2);
    const [applied, failing] = ids as [string, string];
    const { result } = await withFault(
      {
        when: (name, input) => name === 'UpdateItemCommand' && JSON.stringify(input).includes(failing),
        at: 'before',
        error: internalServerError,
        layer: 'outside-retries',
      },
      () =>
        api.call('POST', '/annotations/batch', {
          token: tokens.alice,
          body: { updates: ids.map((id) => ({ id, version: 1, set: { name: 'batched' } })) },
        }),
    );
    expect([
      result.status,
      result.body.results.map((item: { status: number; code?: string }) => [item.status, item.code]),
      JSON.stringify(result.body).includes('Internal server error'),
      Number((await storedItem('ANNOTATION', applied)).version),
      Number((await storedItem('ANNOTATION', failing)).version),
    ]).toEqual([
      200,
      [
        [200, undefined],
        [500, 'INTERNAL'],
      ],
      false,
      2,
      1,
    ]);
  });

  it('a field group that meets a DynamoDB 500 fails by itself: 409 PARTIAL_CONFLICT, that group failed INTERNAL, the other applied', async () => {
    const created = ok(
      await api.call('POST', '/debtors', {
        token: tokens.both,
        body: { name: 'ACME', city: 'Oslo', creditLimit: 100, paymentTermsDays: 30 },
      }),
      201,
    );
    const { result } = await withFault(
      {
        when: (name, input) => name === 'UpdateItemCommand' && JSON.stringify(input).includes('creditLimit'),
        at: 'before',
        error: internalServerError,
        layer: 'outside-retries',
      },
      () =>
        api.call('PATCH', `/debtors/${created.id}`, {
          token: tokens.both,
          body: {
            base: {
              street: null,
              postalCode: null,
              country: null,
              city: 'Oslo',
              creditLimit: 100,
              paymentTermsDays: 30,
            },
            set: { city: 'Bergen', creditLimit: 200 },
          },
        }),
    );
    const stored = await storedItem('DEBTOR', created.id);
    expect([result.status, result.body.code, result.body.groups, stored.city, stored.creditLimit]).toEqual([
      409,
      'PARTIAL_CONFLICT',
      { address: { status: 'applied' }, credit: { status: 'failed', code: 'INTERNAL' } },
      'Bergen',
      100,
    ]);
  });
});

describe('an applied write whose SDK retries are all throttled', () => {
  it('a keyless versioned PATCH applied, its response lost, every retry throttled: 200 from its own attempt, not 503', async () => {
    const id = ok(await api.call('POST', '/annotations', { token: tokens.alice, body: { name: 'n' } }), 201)
      .id as string;
    let updates = 0;
    // The first attempt reaches the database and its response is lost; every SDK retry of
    // it is throttled. The one read after that is not.
    const {
      result: { result, injected },
    } = await withFault(
      {
        when: (command) => command === 'UpdateItemCommand' && ++updates > 1,
        at: 'before',
        error: throttled,
        layer: 'inside-retries',
      },
      () =>
        withFault(
          {
            when: (command) => command === 'UpdateItemCommand',
            at: 'after',
            error: networkTimeout,
            layer: 'inside-retries',
            times: 1,
          },
          () =>
            api.call('PATCH', `/annotations/${id}`, {
              token: tokens.alice,
              headers: { 'if-match': '"1"' },
              body: { name: 'mine' },
            }),
        ),
    );
    const stored = await storedItem('ANNOTATION', id);
    expect([injected, result.status, result.body.name, result.headers.get('etag'), stored.version]).toEqual([
      1,
      200,
      'mine',
      '"2"',
      2,
    ]);
  });
});
