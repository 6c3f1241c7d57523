import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setClockOffset } from '../../lib/clock';
import { LOCK_SKEW_MARGIN_MS } from '../../lib/core/build/locks';
import { useApi } from '../support/api';
import { ok } from '../support/fixtures';

import { type Fault, networkTimeout, throttled, withFault } from '../support/sdk';
import { tableSnapshot } from '../support/table';

/**
 * Each scenario here was once answered wrongly: applied twice, a lost update, or a false
 * conflict. Every one is recognised by the request's identity now, never by its values.
 */
const api = useApi();
type User = 'rita' | 'rob' | 'both' | 'alice' | 'bob' | 'carol' | 'finance' | 'purchasing';
const tokens = {} as Record<User, string>;

beforeAll(async () => {
  tokens.rita = await api.tokenFor('rita', 'customer-relations');
  tokens.rob = await api.tokenFor('rob', 'customer-relations');
  tokens.both = await api.tokenFor('bea', 'customer-relations', 'finance');
  tokens.alice = await api.tokenFor('alice', 'sales');
  tokens.bob = await api.tokenFor('bob', 'sales');
  tokens.carol = await api.tokenFor('carol', 'supervisor');
  tokens.finance = await api.tokenFor('fred', 'finance');
  tokens.purchasing = await api.tokenFor('pia', 'purchasing');
});

afterEach(() => {
  setClockOffset(0);
  vi.restoreAllMocks();
});

const debtorIn = async (city: string) =>
  ok(await api.call('POST', '/debtors', { token: tokens.rita, body: { name: 'ACME', city } }), 201) as {
    id: string;
  };
const noAddress = { street: null, postalCode: null, country: null };
const moveCity = (
  token: string,
  id: string,
  from: string,
  to: string,
  headers: Record<string, string> = {},
) =>
  api.call('PATCH', `/debtors/${id}`, {
    token,
    headers,
    body: { base: { ...noAddress, city: from }, set: { city: to } },
  });

describe('field groups: applied once even when others wrote the group in between', () => {
  it('a keyed PATCH repeated after another user set the group back: the first answer, and the other write kept', async () => {
    const { id } = await debtorIn('Oslo');
    const mine = { 'idempotency-key': 'oslo-bergen' };
    const first = await moveCity(tokens.rita, id, 'Oslo', 'Bergen', mine);
    const back = await moveCity(tokens.rob, id, 'Bergen', 'Oslo');
    const repeat = await moveCity(tokens.rita, id, 'Oslo', 'Bergen', mine);
    expect([first.status, back.status, repeat.status]).toEqual([200, 200, 200]);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.text).toBe(first.text);
    const stored = ok(await api.call('GET', `/debtors/${id}`, { token: tokens.rita }), 200);
    expect([stored.city, stored.version]).toEqual(['Oslo', 3]);
  });

  it('a keyless PATCH the SDK retries after another user set the group back is not applied again', async () => {
    const { id } = await debtorIn('Oslo');
    const fault: Fault = {
      when: (name, input) => name === 'UpdateItemCommand' && JSON.stringify(input).includes('Bergen'),
      at: 'after',
      error: networkTimeout,
      layer: 'inside-retries',
      times: 1,
      interlude: async () => {
        ok(await moveCity(tokens.rob, id, 'Bergen', 'Oslo'), 200);
      },
    };
    const { result, injected } = await withFault(fault, () => moveCity(tokens.rita, id, 'Oslo', 'Bergen'));
    expect([injected, result.status, result.body.groups]).toEqual([1, 200, { address: 'applied' }]);
    const stored = ok(await api.call('GET', `/debtors/${id}`, { token: tokens.rita }), 200);
    expect([stored.city, stored.version]).toEqual(['Oslo', 3]);
  });

  it('a two-group PATCH whose second group stays throttled: the first applied, the second reported failed, no 5xx', async () => {
    const created = ok(
      await api.call('POST', '/debtors', {
        token: tokens.rita,
        body: { name: 'ACME', city: 'Oslo', creditLimit: 100, paymentTermsDays: 30 },
      }),
      201,
    );
    const { result } = await withFault(
      {
        when: (name, input) => name === 'UpdateItemCommand' && JSON.stringify(input).includes('creditLimit'),
        at: 'before',
        error: throttled,
        layer: 'outside-retries',
      },
      () =>
        api.call('PATCH', `/debtors/${created.id}`, {
          token: tokens.both,
          body: {
            base: { ...noAddress, city: 'Oslo', creditLimit: 100, paymentTermsDays: 30 },
            set: { city: 'Bergen', creditLimit: 200 },
          },
        }),
    );
    expect([result.status, result.body.code]).toEqual([409, 'PARTIAL_CONFLICT']);
    expect(result.body.groups).toEqual({
      address: { status: 'applied' },
      credit: { status: 'failed', code: 'THROTTLED' },
    });
    expect(result.body.record).toMatchObject({ city: 'Bergen', creditLimit: 100, version: 2 });
  });
});

describe('read-modify-write never loses an increment', () => {
  it('16 clients × 16 increments with If-Match and the retry helper: all 256 land, none lost', async () => {
    const { updateWithRetry } = await import('../../lib/client/retry');
    const token = tokens.alice;
    const client = api.client(token);
    const created = await client.createAnnotation({ name: 'counter', description: '0' });
    let acknowledged = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let n = 0; n < 16; n += 1) {
          await updateWithRetry(
            {
              read: () => client.getAnnotation(created.id),
              write: (current) =>
                client.patchAnnotation(created.id, current.version, {
                  description: String(Number(current.description) + 1),
                }),
            },
            { attempts: 200, baseMs: 1, capMs: 20 },
          );
          acknowledged += 1;
        }
      }),
    );
    const stored = await client.getAnnotation(created.id);
    expect([acknowledged, Number(stored.description), stored.version]).toEqual([256, 256, 257]);
    // About 20 s alone; most of a minute beside the rest of the suite on two cores. A hang
    // guard, not a timing: a run cut short would leave its clients writing into later tests.
  }, 240_000);

  it('two clients that read the same version and write the same value: the second is stale, not "already applied"', async () => {
    const created = ok(
      await api.call('POST', '/annotations', { token: tokens.alice, body: { name: 'c', description: '5' } }),
      201,
    );
    const write = () =>
      api.call('PATCH', `/annotations/${created.id}`, {
        token: tokens.alice,
        headers: { 'if-match': '"1"' },
        body: { description: '6' },
      });
    const [first, second] = [await write(), await write()];
    expect([first.status, second.status, second.body.code, second.body.changeAlreadyPresent]).toEqual([
      200,
      412,
      'STALE_DATA',
      true,
    ]);
  });
});

describe('one key, one request, anywhere in the API', () => {
  const keyed = (key: string) => ({ 'idempotency-key': key });

  it('a key used for an annotation and then for an order is 422, and no order is made', async () => {
    ok(
      await api.call('POST', '/annotations', {
        token: tokens.alice,
        headers: keyed('k-any'),
        body: { name: 'a' },
      }),
      201,
    );
    const before = await tableSnapshot();
    const order = await api.call('POST', '/orders', {
      token: tokens.alice,
      headers: keyed('k-any'),
      body: { customer: 'X' },
    });
    expect([order.status, order.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a key used for two articles is 422; for a EUR and then a USD account, 422', async () => {
    const article = (id: string) =>
      api.call('POST', '/articles', {
        token: tokens.purchasing,
        headers: keyed('k-art'),
        body: { id, description: 'x' },
      });
    const account = (currency: string) =>
      api.call('POST', '/accounts', {
        token: tokens.finance,
        headers: keyed('k-acc'),
        body: { name: 'n', currency },
      });
    const results = [
      await article('ART-ONE'),
      await article('ART-TWO'),
      await account('EUR'),
      await account('USD'),
    ];
    expect(results.map((answer) => [answer.status, answer.body.code])).toEqual([
      [201, undefined],
      [422, 'IDEMPOTENCY_KEY_REUSED'],
      [201, undefined],
      [422, 'IDEMPOTENCY_KEY_REUSED'],
    ]);
    expect((await api.call('GET', '/articles/ART-TWO', { token: tokens.purchasing })).status).toBe(404);
  });

  it('a keyed account create repeated after 24 h is a new account, not a 409', async () => {
    const request = {
      token: tokens.finance,
      headers: keyed('k-daily-acc'),
      body: { name: 'n', currency: 'EUR' },
    };
    const first = ok(await api.call('POST', '/accounts', request), 201);
    setClockOffset(25 * 3600 * 1000);
    const later = await api.call('POST', '/accounts', request);
    expect([later.status, later.headers.get('idempotent-replayed')]).toEqual([201, null]);
    expect(later.body.id).not.toBe(first.id);
  });

  it('a refused request does not use up its key: its repeat is a new attempt', async () => {
    const created = ok(
      await api.call('POST', '/annotations', { token: tokens.alice, body: { name: 'r' } }),
      201,
    );
    const request = {
      token: tokens.alice,
      headers: { ...keyed('k-refused'), 'if-match': '"7"' },
      body: { name: 'later' },
    };
    const refused = await api.call('PATCH', `/annotations/${created.id}`, request);
    const again = await api.call('PATCH', `/annotations/${created.id}`, {
      ...request,
      headers: { ...request.headers, 'if-match': '"7"' },
    });
    expect([refused.status, again.status, again.headers.get('idempotent-replayed')]).toEqual([
      412,
      412,
      null,
    ]);
  });
});

describe('a keyed repeat gets the first answer, whatever happened since', () => {
  it('a line add whose line was removed since: 201 with the line it added', async () => {
    const order = ok(
      await api.call('POST', '/orders', { token: tokens.alice, body: { customer: 'L', lines: [] } }),
      201,
    );
    const request = {
      token: tokens.alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'add-then-removed' },
      body: { sku: 'A-1', quantity: 1, unitPrice: 5 },
    };
    const first = ok(await api.call('POST', `/orders/${order.id}/lines`, request), 201);
    ok(
      await api.call('DELETE', `/orders/${order.id}/lines/${first.line.lineId}`, {
        token: tokens.bob,
        headers: { 'if-match': '"2"' },
      }),
      200,
    );
    const repeat = await api.call('POST', `/orders/${order.id}/lines`, request);
    expect([repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(repeat.body).toEqual(first);
    const stored = ok(await api.call('GET', `/orders/${order.id}`, { token: tokens.alice }), 200);
    expect([stored.lines, stored.version]).toEqual([[], 3]);
  });

  it('a change repeated after the record was deleted: the first answer, not 410', async () => {
    const created = ok(
      await api.call('POST', '/annotations', { token: tokens.alice, body: { name: 'd' } }),
      201,
    );
    const request = {
      token: tokens.alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'patch-then-deleted' },
      body: { name: 'patched' },
    };
    const first = await api.call('PATCH', `/annotations/${created.id}`, request);
    ok(
      await api.call('DELETE', `/annotations/${created.id}`, {
        token: tokens.bob,
        headers: { 'if-match': '"2"' },
      }),
      204,
    );
    const repeat = await api.call('PATCH', `/annotations/${created.id}`, request);
    expect([first.status, repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([
      200,
      200,
      'true',
    ]);
    expect(repeat.text).toBe(first.text);
  });

  it('a lock acquisition repeated after the lock was broken and taken by another: the first lease, fence 1', async () => {
    const created = ok(
      await api.call('POST', '/annotations', { token: tokens.alice, body: { name: 'l' } }),
      201,
    );
    const path = `/annotations/${created.id}/lock`;
    const request = {
      token: tokens.alice,
      headers: { 'idempotency-key': 'lock-once' },
      body: { ttlSeconds: 60 },
    };
    const first = ok(await api.call('POST', path, request), 201);
    ok(await api.call('DELETE', path, { token: tokens.carol }), 204);
    const taken = ok(await api.call('POST', path, { token: tokens.bob, body: { ttlSeconds: 60 } }), 201);
    const repeat = await api.call('POST', path, request);
    expect([first.fence, taken.fence, repeat.status, repeat.body.fence]).toEqual([1, 2, 201, 1]);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.body).toEqual(first);
  });

  it('a deposit repeated after other deposits: the first entry and the first balance', async () => {
    const account = ok(
      await api.call('POST', '/accounts', { token: tokens.finance, body: { name: 'n', currency: 'EUR' } }),
      201,
    );
    const deposit = (key: string, amount: number) =>
      api.call('POST', `/accounts/${account.id}/deposits`, {
        token: tokens.finance,
        headers: { 'idempotency-key': key },
        body: { amount },
      });
    const first = await deposit('dep-first', 100);
    ok(await deposit('dep-other', 50), 201);
    const repeat = await deposit('dep-first', 100);
    expect([
      first.status,
      first.body.balance,
      repeat.status,
      repeat.headers.get('idempotent-replayed'),
    ]).toEqual([201, 100, 201, 'true']);
    expect(repeat.text).toBe(first.text);
    const stored = ok(await api.call('GET', `/accounts/${account.id}`, { token: tokens.finance }), 200);
    expect(stored.balance).toBe(150);
  });
});

describe('leases absorb clock skew', () => {
  it(`another user takes an expired lock only ${LOCK_SKEW_MARGIN_MS} ms past its expiry; its holder renews nothing after expiry`, async () => {
    const created = ok(
      await api.call('POST', '/annotations', { token: tokens.alice, body: { name: 's' } }),
      201,
    );
    const path = `/annotations/${created.id}/lock`;
    const lease = ok(await api.call('POST', path, { token: tokens.alice, body: { ttlSeconds: 5 } }), 201);
    const expiresAt = Date.parse(lease.expiresAt);
    setClockOffset(expiresAt - Date.now() + LOCK_SKEW_MARGIN_MS / 2);
    const tooEarly = await api.call('POST', path, { token: tokens.bob, body: { ttlSeconds: 5 } });
    expect([tooEarly.status, tooEarly.body.code, tooEarly.body.lock.owner]).toEqual([423, 'LOCKED', 'alice']);
    // Past its expiry the lock binds no writer, even within the margin.
    const write = await api.call('PATCH', `/annotations/${created.id}`, {
      token: tokens.bob,
      headers: { 'if-match': '"1"' },
      body: { name: 'bob' },
    });
    expect(write.status).toBe(200);
    setClockOffset(expiresAt - Date.now() + LOCK_SKEW_MARGIN_MS + 1000);
    const taken = await api.call('POST', path, { token: tokens.bob, body: { ttlSeconds: 5 } });
    expect([taken.status, taken.body.fence]).toEqual([201, 2]);
  });
});

describe('what an independent review found', () => {
  const inProgress = () =>
    Object.assign(new Error('Transaction is still in progress'), {
      name: 'TransactionInProgressException',
      $retryable: undefined,
    });

  it('a transaction answered "in progress" is sent again with the same token: applied once, not a replay', async () => {
    const customer = `InProgress-${Date.now()}`;
    const { result, injected } = await withFault(
      {
        when: (name) => name === 'TransactWriteItemsCommand',
        at: 'after',
        error: inProgress,
        layer: 'outside-retries',
        times: 1,
      },
      () =>
        api.call('POST', '/orders', {
          token: tokens.alice,
          headers: { 'idempotency-key': `in-progress-${customer}` },
          body: { customer, lines: [{ sku: 'A-1', quantity: 1, unitPrice: 5 }] },
        }),
    );
    expect([injected, result.status, result.headers.get('idempotent-replayed')]).toEqual([1, 201, null]);
    expect((await tableSnapshot()).filter((item) => item.customer === customer)).toHaveLength(1);
  });

  it('a deposit whose answer meets a collision while being kept still answers 201, once', async () => {
    const account = ok(
      await api.call('POST', '/accounts', { token: tokens.finance, body: { name: 'n', currency: 'EUR' } }),
      201,
    );
    const collision = () =>
      Object.assign(new Error('Transaction is ongoing for the item'), {
        name: 'TransactionConflictException',
        $retryable: undefined,
      });
    const { result, injected } = await withFault(
      {
        when: (name) => name === 'UpdateItemCommand',
        at: 'before',
        error: collision,
        layer: 'outside-retries',
        times: 1,
      },
      () =>
        api.call('POST', `/accounts/${account.id}/deposits`, {
          token: tokens.finance,
          headers: { 'idempotency-key': `kept-${account.id}` },
          body: { amount: 70 },
        }),
    );
    expect([injected, result.status, result.body.balance]).toEqual([1, 201, 70]);
  });

  it('a keyed group PATCH resent with its key but another base is 422 before any group is written', async () => {
    const created = ok(
      await api.call('POST', '/debtors', {
        token: tokens.both,
        body: { name: 'ACME', city: 'Oslo', creditLimit: 100, paymentTermsDays: 30 },
      }),
      201,
    );
    ok(await moveCity(tokens.rob, created.id, 'Oslo', 'Tromsø'), 200);
    const patch = (base: Record<string, unknown>) =>
      api.call('PATCH', `/debtors/${created.id}`, {
        token: tokens.both,
        headers: { 'idempotency-key': `groups-${created.id}` },
        body: {
          base: { ...noAddress, city: 'Oslo', creditLimit: 100, paymentTermsDays: 30, ...base },
          set: { city: 'Bergen', creditLimit: 300 },
        },
      });
    const first = await patch({});
    expect([first.status, first.body.groups]).toEqual([
      409,
      { address: expect.objectContaining({ status: 'conflict' }), credit: { status: 'applied' } },
    ]);
    const before = await tableSnapshot();
    const fixed = await patch({ city: 'Tromsø' });
    expect([fixed.status, fixed.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a keyed order PATCH made under a lock repeats its first answer, lock and all, after the lock expired', async () => {
    const order = ok(
      await api.call('POST', '/orders', { token: tokens.alice, body: { customer: 'Locked' } }),
      201,
    );
    const lease = ok(
      await api.call('POST', `/orders/${order.id}/lock`, { token: tokens.alice, body: { ttlSeconds: 5 } }),
      201,
    );
    const request = {
      token: tokens.alice,
      headers: { 'if-match': '"1"', 'lock-token': lease.token, 'idempotency-key': `under-lock-${order.id}` },
      body: { notes: 'locked edit' },
    };
    const first = await api.call('PATCH', `/orders/${order.id}`, request);
    setClockOffset(10_000);
    const repeat = await api.call('PATCH', `/orders/${order.id}`, request);
    expect([first.status, first.body.lock.owner, repeat.status]).toEqual([200, 'alice', 200]);
    expect(repeat.text).toBe(first.text);
  });
});
