import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/client/answers';
import { updateWithRetry } from '../../lib/client/retry';
import { setClockOffset } from '../../lib/clock';
import { useApi } from '../support/api';
import { interleave, lostAnswerRetriedBySdk, recordRequests, withFault } from '../support/sdk';
import { tableSnapshot } from '../support/table';

const api = useApi();
let sales = '';
let sales2 = '';
let supervisor = '';
let warehouse = '';

beforeAll(async () => {
  sales = await api.tokenFor('sam', 'sales');
  sales2 = await api.tokenFor('sue', 'sales');
  supervisor = await api.tokenFor('sid', 'supervisor');
  warehouse = await api.tokenFor('wes', 'warehouse');
});

afterEach(() => setClockOffset(0));

const line = (sku: string, quantity = 1, unitPrice = 100) => ({ sku, quantity, unitPrice });

const createOrder = async (lines = [line('A'), line('B')]) => {
  const created = await api.call('POST', '/orders', { token: sales, body: { customer: 'ACME', lines } });
  expect(created.status).toBe(201);
  return created.body as { id: string; version: number; lines: { lineId: string }[] };
};

const statuses = (answers: { status: number }[]) =>
  answers.reduce<Record<number, number>>((counts, { status }) => {
    counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }, {});

describe('orders: one versioned aggregate', () => {
  it('creates a draft at version 1 with its lines and total', async () => {
    const order = await api.call('POST', '/orders', {
      token: sales,
      body: { customer: 'ACME', notes: 'rush', lines: [line('A', 2, 150), line('B', 1, 1000)] },
    });
    expect(order.status).toBe(201);
    expect(order.headers.get('etag')).toBe('"1"');
    expect(order.body).toMatchObject({
      customer: 'ACME',
      notes: 'rush',
      status: 'draft',
      total: 1300,
      version: 1,
    });
    expect(order.body.lines.map((l: { sku: string }) => l.sku)).toEqual(['A', 'B']);
    const read = await api.call('GET', `/orders/${order.body.id}`, { token: warehouse });
    expect(read.body).toEqual(order.body);
  });

  it('two users edit different lines at the same version: one wins, the other gets STALE_DATA with the order', async () => {
    const order = await createOrder();
    const [first, second] = order.lines;
    const answers = await Promise.all([
      api.call('PATCH', `/orders/${order.id}/lines/${first?.lineId}`, {
        token: sales,
        headers: { 'if-match': '"1"' },
        body: { quantity: 5 },
      }),
      api.call('PATCH', `/orders/${order.id}/lines/${second?.lineId}`, {
        token: sales2,
        headers: { 'if-match': '"1"' },
        body: { quantity: 7 },
      }),
    ]);
    expect(statuses(answers)).toEqual({ 200: 1, 412: 1 });
    const loser = answers.find((answer) => answer.status === 412);
    expect(loser?.body.code).toBe('STALE_DATA');
    expect(loser?.body.current.version).toBe(2);
    expect(loser?.body.current.lines).toHaveLength(2);
    const stored = (await api.call('GET', `/orders/${order.id}`, { token: sales })).body;
    expect(stored.version).toBe(2);
    expect(stored).toEqual(loser?.body.current);
  });

  it('an order of 500 lines takes no 501st: a PUT with 501 is 422 at /lines, adding one is 409 INVALID_STATE, nothing written', async () => {
    let order = await createOrder(Array.from({ length: 99 }, (_, n) => line(`L${n}`)));
    // Each PUT keeps the lines there and adds 99 (99 new items and the header: 100 writes).
    for (let round = 1; round <= 4; round++) {
      const kept = order.lines.map(({ lineId, sku, quantity, unitPrice }: Record<string, unknown>) => ({
        lineId,
        sku,
        quantity,
        unitPrice,
      }));
      const added = Array.from({ length: 99 }, (_, n) => line(`R${round}-${n}`));
      const put = await api.call('PUT', `/orders/${order.id}`, {
        token: sales,
        headers: { 'if-match': `"${order.version}"` },
        body: { customer: 'ACME', lines: [...kept, ...added] },
      });
      expect(put.status).toBe(200);
      order = put.body;
    }
    for (let n = 0; n < 5; n++) {
      const added = await api.call('POST', `/orders/${order.id}/lines`, {
        token: sales,
        headers: { 'if-match': `"${order.version + n}"` },
        body: line(`P${n}`),
      });
      expect(added.status).toBe(201);
    }
    const full = (await api.call('GET', `/orders/${order.id}`, { token: sales })).body;
    expect([full.lines.length, full.version]).toEqual([500, 10]);
    const before = await tableSnapshot();

    const oneMore = await api.call('POST', `/orders/${order.id}/lines`, {
      token: sales,
      headers: { 'if-match': '"10"' },
      body: line('TOO-MANY'),
    });
    expect([oneMore.status, oneMore.body.code, oneMore.body.lineCount]).toEqual([409, 'INVALID_STATE', 500]);
    expect(oneMore.body.detail).toBe('The order has 500 lines, the most it may have is 500.');

    const tooLong = await api.call('PUT', `/orders/${order.id}`, {
      token: sales,
      headers: { 'if-match': '"10"' },
      body: {
        customer: 'ACME',
        lines: [
          ...full.lines.map(({ lineId, sku, quantity, unitPrice }: Record<string, unknown>) => ({
            lineId,
            sku,
            quantity,
            unitPrice,
          })),
          line('TOO-MANY'),
        ],
      },
    });
    expect([tooLong.status, tooLong.body.code, tooLong.body.errors]).toEqual([
      422,
      'VALIDATION_FAILED',
      [{ pointer: '/lines', detail: 'Must be at most 500 items.' }],
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('30 concurrent line additions at the same version: exactly 1 succeeds', async () => {
    const order = await createOrder([]);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        api.call('POST', `/orders/${order.id}/lines`, {
          token: sales,
          headers: { 'if-match': '"1"' },
          body: line(`SKU-${n}`),
        }),
      ),
    );
    expect(statuses(answers)).toEqual({ 201: 1, 412: 29 });
    const stored = (await api.call('GET', `/orders/${order.id}`, { token: sales })).body;
    expect(stored.lines).toHaveLength(1);
    expect(stored.version).toBe(2);
  });

  it('30 concurrent line additions that re-read and retry: all 30 lines, version 31, total exact', async () => {
    const order = await createOrder([]);
    const client = api.client(sales);
    await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        updateWithRetry(
          {
            read: () => client.getOrder(order.id),
            write: (current) => client.addLine(order.id, current.version, line(`SKU-${n}`, n + 1, 10)),
          },
          { attempts: 60, baseMs: 5, capMs: 200 },
        ),
      ),
    );
    const stored = await client.getOrder(order.id);
    expect(stored.lines).toHaveLength(30);
    expect(stored.version).toBe(31);
    expect(stored.total).toBe(Array.from({ length: 30 }, (_, n) => (n + 1) * 10).reduce((a, b) => a + b, 0));
    expect(new Set(stored.lines.map((l) => l.sku)).size).toBe(30);
  });

  it('approve racing a line edit: one wins; after approval the edit is STALE_DATA, and its retry INVALID_STATE', async () => {
    const order = await createOrder();
    const lineId = order.lines[0]?.lineId;
    const [approve, edit] = await Promise.all([
      api.call('POST', `/orders/${order.id}/transitions`, {
        token: supervisor,
        headers: { 'if-match': '"1"' },
        body: { to: 'approved' },
      }),
      api.call('PATCH', `/orders/${order.id}/lines/${lineId}`, {
        token: sales,
        headers: { 'if-match': '"1"' },
        body: { quantity: 9 },
      }),
    ]);
    expect([approve.status, edit.status].sort()).toEqual([200, 412]);
    const stored = (await api.call('GET', `/orders/${order.id}`, { token: sales })).body;
    expect(stored.version).toBe(2);
    if (approve.status === 200) {
      expect(edit.body.code).toBe('STALE_DATA');
      const retry = await api.call('PATCH', `/orders/${order.id}/lines/${lineId}`, {
        token: sales,
        headers: { 'if-match': `"${edit.body.current.version}"` },
        body: { quantity: 9 },
      });
      expect(retry.status).toBe(409);
      expect(retry.body.code).toBe('INVALID_STATE');
      expect(stored).toMatchObject({ status: 'approved' });
      expect(stored.lines[0].quantity).toBe(1);
    } else {
      expect(approve.body.code).toBe('STALE_DATA');
      expect(stored).toMatchObject({ status: 'draft' });
      expect(stored.lines[0].quantity).toBe(9);
    }
  });

  it('after approval no line or header edit is possible', async () => {
    const order = await createOrder();
    await api.call('POST', `/orders/${order.id}/transitions`, {
      token: supervisor,
      headers: { 'if-match': '"1"' },
      body: { to: 'approved' },
    });
    const before = await tableSnapshot();
    const attempts = await Promise.all([
      api.call('PATCH', `/orders/${order.id}`, {
        token: sales,
        headers: { 'if-match': '"2"' },
        body: { notes: 'x' },
      }),
      api.call('POST', `/orders/${order.id}/lines`, {
        token: sales,
        headers: { 'if-match': '"2"' },
        body: line('C'),
      }),
      api.call('DELETE', `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
        token: sales,
        headers: { 'if-match': '"2"' },
      }),
      api.call('PUT', `/orders/${order.id}`, {
        token: sales,
        headers: { 'if-match': '"2"' },
        body: { customer: 'X', lines: [] },
      }),
    ]);
    // `status` is the HTTP status (RFC 9457); the order's state travels as `state`.
    expect(
      attempts.map((answer) => [answer.status, answer.body.status, answer.body.code, answer.body.state]),
    ).toEqual(Array(4).fill([409, 409, 'INVALID_STATE', 'approved']));
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a stale edit of a line removed since is STALE_DATA with the order, not 404', async () => {
    const order = await createOrder();
    const [, removed] = order.lines;
    await api.call('DELETE', `/orders/${order.id}/lines/${removed?.lineId}`, {
      token: sales2,
      headers: { 'if-match': '"1"' },
    });
    const before = await tableSnapshot();
    const stale = await api.call('PATCH', `/orders/${order.id}/lines/${removed?.lineId}`, {
      token: sales,
      headers: { 'if-match': '"1"' },
      body: { quantity: 5 },
    });
    expect([
      stale.status,
      stale.body.code,
      stale.body.current.version,
      stale.body.current.lines.length,
    ]).toEqual([412, 'STALE_DATA', 2, 1]);
    const unknown = await api.call('PATCH', `/orders/${order.id}/lines/no-such-line`, {
      token: sales,
      headers: { 'if-match': '"2"' },
      body: { quantity: 5 },
    });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('the same line edit made twice from one version: the second is stale, marked as already present, and writes nothing', async () => {
    const order = await createOrder();
    const lineId = order.lines[0]?.lineId;
    const edit = (token: string) =>
      api.call('PATCH', `/orders/${order.id}/lines/${lineId}`, {
        token,
        headers: { 'if-match': '"1"' },
        body: { quantity: 20 },
      });
    const first = await edit(sales);
    const before = await tableSnapshot();
    const second = await edit(sales2);
    expect([first.status, first.body.version, second.status, second.body.code]).toEqual([
      200,
      2,
      412,
      'STALE_DATA',
    ]);
    expect(second.body.changeAlreadyPresent).toBe(true);
    expect(second.body.current.version).toBe(2);
    expect(second.body.current.lines[0]).toMatchObject({ lineId, quantity: 20 });
    expect(await tableSnapshot()).toEqual(before);
  });

  it('the same line removed twice from one version: the second is stale, marked as already present', async () => {
    const order = await createOrder();
    const lineId = order.lines[0]?.lineId;
    const remove = (token: string) =>
      api.call('DELETE', `/orders/${order.id}/lines/${lineId}`, { token, headers: { 'if-match': '"1"' } });
    const first = await remove(sales);
    const before = await tableSnapshot();
    const second = await remove(sales2);
    expect([first.status, first.body.version, second.status, second.body.code]).toEqual([
      200,
      2,
      412,
      'STALE_DATA',
    ]);
    expect([second.body.changeAlreadyPresent, second.body.current.version]).toEqual([true, 2]);
    expect(await tableSnapshot()).toEqual(before);
    const other = await api.call('DELETE', `/orders/${order.id}/lines/${order.lines[1]?.lineId}`, {
      token: sales2,
      headers: { 'if-match': '"1"' },
    });
    expect([other.status, other.body.code, other.body.changeAlreadyPresent]).toEqual([
      412,
      'STALE_DATA',
      undefined,
    ]);
  });

  it('the total is exact past 2^53: 99 lines at the largest quantity and price', async () => {
    const big = Array.from({ length: 99 }, (_, n) => line(`MAX-${n}`, 1_000_000, 1_000_000_000));
    big[0] = line('MAX-0', 999_999, 999_999_999);
    const created = await api.call('POST', '/orders', {
      token: sales,
      body: { customer: 'Big', lines: big },
    });
    const read = await api.call('GET', `/orders/${created.body.id}`, { token: sales });
    const exact = 98n * 10n ** 15n + 999_999n * 999_999_999n;
    expect([created.status, read.status]).toEqual([201, 200]);
    expect(read.text).toContain(`"total":${exact}`);
    expect(created.text).toContain(`"total":${exact}`);
  });

  it('keyed header writes with If-Match: * replay their first answer and still meet the state machine', async () => {
    const order = await createOrder();
    const approve = {
      token: supervisor,
      headers: { 'if-match': '*', 'idempotency-key': 'approve-star' },
      body: { to: 'approved' },
    };
    const first = await api.call('POST', `/orders/${order.id}/transitions`, approve);
    const repeat = await api.call('POST', `/orders/${order.id}/transitions`, approve);
    expect([first.status, first.body.status, first.body.version]).toEqual([200, 'approved', 2]);
    expect([repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(repeat.body).toEqual(first.body);
    const before = await tableSnapshot();
    const edit = await api.call('PATCH', `/orders/${order.id}`, {
      token: sales,
      headers: { 'if-match': '*', 'idempotency-key': 'notes-star' },
      body: { notes: 'too late' },
    });
    expect([edit.status, edit.body.code, edit.body.state]).toEqual([409, 'INVALID_STATE', 'approved']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a line edit with If-Match: * that another write overtakes between its read and its write still applies', async () => {
    const order = await createOrder();
    const [first, second] = order.lines;
    const { result, interleaved } = await interleave(
      'TransactWriteItemsCommand',
      () =>
        api.call('PATCH', `/orders/${order.id}/lines/${second?.lineId}`, {
          token: sales2,
          headers: { 'if-match': '"1"' },
          body: { quantity: 7 },
        }),
      () =>
        api.call('PATCH', `/orders/${order.id}/lines/${first?.lineId}`, {
          token: sales,
          headers: { 'if-match': '*' },
          body: { quantity: 3 },
        }),
    );
    expect([interleaved, result.status, result.body.version, result.body.line.quantity]).toEqual([
      1, 200, 3, 3,
    ]);
    const stored = await api.call('GET', `/orders/${order.id}`, { token: sales });
    expect(stored.body.lines.map((l: { quantity: number }) => l.quantity)).toEqual([3, 7]);
  });

  it('transitions follow the state machine and its roles', async () => {
    const order = await createOrder();
    const move = (token: string, version: number, to: string) =>
      api.call('POST', `/orders/${order.id}/transitions`, {
        token,
        headers: { 'if-match': `"${version}"` },
        body: { to },
      });
    expect((await move(warehouse, 1, 'shipped')).body.code).toBe('INVALID_STATE');
    expect((await move(supervisor, 1, 'shipped')).status).toBe(403);
    expect((await move(sales, 1, 'approved')).status).toBe(403);
    expect((await move(supervisor, 1, 'draft')).body.code).toBe('INVALID_STATE');
    const approved = await move(supervisor, 1, 'approved');
    expect([approved.status, approved.body.status, approved.body.version]).toEqual([200, 'approved', 2]);
    const shipped = await move(warehouse, 2, 'shipped');
    expect([shipped.status, shipped.body.status, shipped.body.version]).toEqual([200, 'shipped', 3]);
    const cancel = await move(sales, 3, 'cancelled');
    expect([cancel.status, cancel.body.code]).toEqual([409, 'INVALID_STATE']);
  });

  it('PUT writes exactly the lines that changed, with the header, in one transaction', async () => {
    const order = await createOrder([line('A'), line('B'), line('C'), line('D')]);
    const [a, b, c] = order.lines;
    const actions: number[] = [];
    const { result: put, commands } = await recordRequests(() =>
      recordTransactItems(actions, () =>
        api.call('PUT', `/orders/${order.id}`, {
          token: sales,
          headers: { 'if-match': '"1"' },
          body: {
            customer: 'ACME',
            lines: [
              { lineId: a?.lineId, sku: 'A', quantity: 1, unitPrice: 100 },
              { lineId: b?.lineId, sku: 'B', quantity: 3, unitPrice: 100 },
              { sku: 'E', quantity: 2, unitPrice: 50 },
            ],
          },
        }),
      ),
    );
    expect(put.status).toBe(200);
    // Header, B changed, E added, C and D removed; A is unchanged and not written.
    expect(actions).toEqual([5]);
    expect(commands).toEqual(['QueryCommand', 'TransactWriteItemsCommand']);
    expect(put.body).toMatchObject({ version: 2, total: 100 + 300 + 100 });
    expect(put.body.lines.map((l: { sku: string }) => l.sku)).toEqual(['A', 'B', 'E']);
    const stored = (await api.call('GET', `/orders/${order.id}`, { token: sales })).body;
    expect(stored).toEqual(put.body);
    expect(stored.lines.some((l: { lineId: string }) => l.lineId === c?.lineId)).toBe(false);
  });
});

/** Records how many actions each TransactWriteItems carries while `fn` runs. */
const recordTransactItems = async <T>(actions: number[], fn: () => Promise<T>): Promise<T> => {
  const { result } = await withFault(
    {
      when: (name, input) => {
        if (name === 'TransactWriteItemsCommand') actions.push((input.TransactItems as unknown[]).length);
        return false;
      },
      at: 'before',
      error: () => new Error('never'),
      layer: 'outside-retries',
    },
    fn,
  );
  return result;
};

describe('orders: transaction collisions', () => {
  const collision = () =>
    Object.assign(new Error('Transaction cancelled'), {
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
    });

  it('a TransactionConflict on the first attempts is retried inside the request and succeeds', async () => {
    const order = await createOrder();
    const { result, injected } = await withFault(
      {
        when: (name) => name === 'TransactWriteItemsCommand',
        at: 'before',
        error: collision,
        layer: 'outside-retries',
        times: 2,
      },
      () =>
        api.call('POST', `/orders/${order.id}/lines`, {
          token: sales,
          headers: { 'if-match': '"1"' },
          body: line('C'),
        }),
    );
    expect(injected).toBe(2);
    expect(result.status).toBe(201);
    const stored = (await api.call('GET', `/orders/${order.id}`, { token: sales })).body;
    expect([stored.version, stored.lines.length]).toEqual([2, 3]);
  });

  it('a TransactionConflict on every attempt is 409 WRITE_CONTENTION with Retry-After, nothing written', async () => {
    const order = await createOrder();
    const before = await tableSnapshot();
    const { result, injected } = await withFault(
      {
        when: (name) => name === 'TransactWriteItemsCommand',
        at: 'before',
        error: collision,
        layer: 'outside-retries',
      },
      () =>
        api.call('POST', `/orders/${order.id}/lines`, {
          token: sales,
          headers: { 'if-match': '"1"' },
          body: line('C'),
        }),
    );
    expect(injected).toBe(4);
    expect(result.status).toBe(409);
    expect(result.body.code).toBe('WRITE_CONTENTION');
    expect(result.headers.get('retry-after')).toBe('1');
    expect(await tableSnapshot()).toEqual(before);
  });
});

describe('locks', () => {
  const lockPath = (id: string) => `/orders/${id}/lock`;

  it('the holder writes; others get 423 with the owner and Retry-After; GET shows the lock', async () => {
    const order = await createOrder();
    const acquired = await api.call('POST', lockPath(order.id), { token: sales, body: { ttlSeconds: 60 } });
    expect(acquired.status).toBe(201);
    expect(acquired.body).toMatchObject({ owner: 'sam', fence: 1 });
    const { token } = acquired.body;

    const other = await api.call('POST', `/orders/${order.id}/lines`, {
      token: sales2,
      headers: { 'if-match': '"1"' },
      body: line('C'),
    });
    expect(other.status).toBe(423);
    expect(other.body).toMatchObject({
      code: 'LOCKED',
      lock: { owner: 'sam', expiresAt: acquired.body.expiresAt },
    });
    expect(Number(other.headers.get('retry-after'))).toBeGreaterThan(0);

    const shown = await api.call('GET', `/orders/${order.id}`, { token: sales2 });
    expect(shown.body.lock).toEqual({ owner: 'sam', expiresAt: acquired.body.expiresAt });
    expect(shown.body.version).toBe(1);

    const holder = await api.call('POST', `/orders/${order.id}/lines`, {
      token: sales,
      headers: { 'if-match': '"1"', 'lock-token': token },
      body: line('C'),
    });
    expect(holder.status).toBe(201);
    const stale = await api.call('POST', `/orders/${order.id}/lines`, {
      token: sales,
      headers: { 'if-match': '"1"', 'lock-token': token },
      body: line('D'),
    });
    expect(stale.status).toBe(412);
  });

  it('a token is its holder’s: another user presenting it gets 423 on a write and LOCK_LOST on renew and release', async () => {
    const order = await createOrder();
    const acquired = await api.call('POST', lockPath(order.id), { token: sales, body: { ttlSeconds: 60 } });
    const { token } = acquired.body;
    const write = await api.call('POST', `/orders/${order.id}/lines`, {
      token: sales2,
      headers: { 'if-match': '"1"', 'lock-token': token },
      body: line('C'),
    });
    const renew = await api.call('PUT', lockPath(order.id), {
      token: sales2,
      headers: { 'lock-token': token },
      body: { ttlSeconds: 300 },
    });
    const release = await api.call('DELETE', lockPath(order.id), {
      token: sales2,
      headers: { 'lock-token': token },
    });
    const shown = await api.call('GET', `/orders/${order.id}`, { token: sales });
    expect([
      [write.status, write.body.code],
      [renew.status, renew.body.code],
      [release.status, release.body.code],
      [shown.body.version, shown.body.lock],
    ]).toEqual([
      [423, 'LOCKED'],
      [409, 'LOCK_LOST'],
      [409, 'LOCK_LOST'],
      [1, { owner: 'sam', expiresAt: acquired.body.expiresAt }],
    ]);
  });

  it('after expiry another user acquires with a higher fence, and the old token is LOCK_LOST', async () => {
    const order = await createOrder();
    const first = await api.call('POST', lockPath(order.id), { token: sales, body: { ttlSeconds: 5 } });
    const blocked = await api.call('POST', lockPath(order.id), { token: sales2 });
    expect(blocked.status).toBe(423);
    setClockOffset(6_000);
    const second = await api.call('POST', lockPath(order.id), { token: sales2, body: { ttlSeconds: 60 } });
    expect(second.status).toBe(201);
    expect(second.body.fence).toBe(first.body.fence + 1);
    const renew = await api.call('PUT', lockPath(order.id), {
      token: sales,
      headers: { 'lock-token': first.body.token },
    });
    expect([renew.status, renew.body.code]).toEqual([409, 'LOCK_LOST']);
    const release = await api.call('DELETE', lockPath(order.id), {
      token: sales,
      headers: { 'lock-token': first.body.token },
    });
    expect([release.status, release.body.code]).toEqual([409, 'LOCK_LOST']);
    const write = await api.call('PATCH', `/orders/${order.id}`, {
      token: sales,
      headers: { 'if-match': '"1"', 'lock-token': first.body.token },
      body: { notes: 'old holder' },
    });
    expect(write.status).toBe(423);
  });

  it('the already-applied rule never passes a lock, a state or a version the order never had', async () => {
    const order = await createOrder();
    const lineId = order.lines[0]?.lineId;
    const edit = { quantity: 20 };
    await api.call('PATCH', `/orders/${order.id}/lines/${lineId}`, {
      token: sales,
      headers: { 'if-match': '"1"' },
      body: edit,
    });
    const lock = await api.call('POST', lockPath(order.id), { token: sales });
    const locked = await api.call('PATCH', `/orders/${order.id}/lines/${lineId}`, {
      token: sales2,
      headers: { 'if-match': '"1"' },
      body: edit,
    });
    expect([lock.status, locked.status, locked.body.code]).toEqual([201, 423, 'LOCKED']);
    await api.call('DELETE', lockPath(order.id), {
      token: sales,
      headers: { 'lock-token': lock.body.token },
    });
    const future = await api.call('DELETE', `/orders/${order.id}/lines/never-was`, {
      token: sales,
      headers: { 'if-match': '"77"' },
    });
    expect([future.status, future.body.code]).toEqual([412, 'STALE_DATA']);
    const approved = await api.call('POST', `/orders/${order.id}/transitions`, {
      token: supervisor,
      headers: { 'if-match': '"2"' },
      body: { to: 'approved' },
    });
    const again = await api.call('POST', `/orders/${order.id}/transitions`, {
      token: supervisor,
      headers: { 'if-match': '"3"' },
      body: { to: 'approved' },
    });
    expect([approved.status, again.status, again.body.code]).toEqual([200, 409, 'INVALID_STATE']);
  });

  it('a keyed PUT of an order retried after someone else locked it answers as applied', async () => {
    const order = await createOrder();
    const request = {
      token: sales,
      headers: { 'if-match': '"1"', 'idempotency-key': 'put-before-lock' },
      body: { customer: 'ACME', lines: [line('Z')] },
    };
    const first = await api.call('PUT', `/orders/${order.id}`, request);
    const lock = await api.call('POST', lockPath(order.id), { token: sales2 });
    const retry = await api.call('PUT', `/orders/${order.id}`, request);
    expect([first.status, lock.status, retry.status, retry.headers.get('idempotent-replayed')]).toEqual([
      200,
      201,
      200,
      'true',
    ]);
  });

  it('an acquisition or release whose answer was lost and that the SDK retries happens once', async () => {
    const order = await createOrder();
    const lostOnce = lostAnswerRetriedBySdk('UpdateItemCommand');
    const acquired = await withFault(lostOnce, () => api.call('POST', lockPath(order.id), { token: sales }));
    expect([acquired.injected, acquired.result.status, acquired.result.body.fence]).toEqual([1, 201, 1]);
    const released = await withFault(lostOnce, () =>
      api.call('DELETE', lockPath(order.id), {
        token: sales,
        headers: { 'lock-token': acquired.result.body.token },
      }),
    );
    expect([released.injected, released.result.status]).toEqual([1, 204]);
    const again = await api.call('POST', lockPath(order.id), { token: sales });
    expect([again.status, again.body.fence]).toEqual([201, 2]);
  });

  it('a keyed acquisition repeated gets the same lease; the key with another body is 422', async () => {
    const order = await createOrder();
    const request = { token: sales, headers: { 'idempotency-key': 'lock-once' }, body: { ttlSeconds: 60 } };
    const first = await api.call('POST', lockPath(order.id), request);
    const repeat = await api.call('POST', lockPath(order.id), request);
    expect([first.status, repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([
      201,
      201,
      'true',
    ]);
    expect(repeat.body).toEqual(first.body);
    const before = await tableSnapshot();
    const reused = await api.call('POST', lockPath(order.id), { ...request, body: { ttlSeconds: 90 } });
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('20 users acquire at once: exactly one gets 201', async () => {
    const order = await createOrder();
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, n) => api.tokenFor(`user-${n}`, 'sales')),
    );
    const answers = await Promise.all(tokens.map((token) => api.call('POST', lockPath(order.id), { token })));
    expect(statuses(answers)).toEqual({ 201: 1, 423: 19 });
  });

  it('renew extends, release frees, and a supervisor can break a lock without its token', async () => {
    const { id } = (await api.call('POST', '/annotations', { token: sales, body: { name: 'locked' } })).body;
    const acquired = await api.call('POST', `/annotations/${id}/lock`, {
      token: sales,
      body: { ttlSeconds: 30 },
    });
    const renewed = await api.call('PUT', `/annotations/${id}/lock`, {
      token: sales,
      headers: { 'lock-token': acquired.body.token },
      body: { ttlSeconds: 600 },
    });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.body.expiresAt)).toBeGreaterThan(Date.parse(acquired.body.expiresAt));
    expect(renewed.body.fence).toBe(acquired.body.fence);
    const forbidden = await api.call('DELETE', `/annotations/${id}/lock`, { token: sales2 });
    expect(forbidden.status).toBe(403);
    const broken = await api.call('DELETE', `/annotations/${id}/lock`, { token: supervisor });
    expect(broken.status).toBe(204);
    const edit = await api.call('PUT', `/annotations/${id}`, {
      token: sales2,
      headers: { 'if-match': '"1"' },
      body: { name: 'free again' },
    });
    expect(edit.status).toBe(200);
    expect(edit.body).not.toHaveProperty('lock');
  });
});

describe('orders: bad input changes nothing', () => {
  interface BadCase {
    name: string;
    method: string;
    path: (id: string) => string;
    body?: unknown;
    status: number;
    code: string;
  }
  const badCases: BadCase[] = [
    {
      name: '100 lines on create',
      method: 'POST',
      path: () => '/orders',
      body: { customer: 'X', lines: Array(100).fill(line('A')) },
      status: 422,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'quantity 0',
      method: 'POST',
      path: (id) => `/orders/${id}/lines`,
      body: { ...line('A', 0), version: 1 },
      status: 422,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'an unknown field on a line',
      method: 'POST',
      path: (id) => `/orders/${id}/lines`,
      body: { ...line('A'), colour: 'red', version: 1 },
      status: 422,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'an unknown lineId in PUT',
      method: 'PUT',
      path: (id) => `/orders/${id}`,
      body: { customer: 'X', version: 1, lines: [{ lineId: 'nope', ...line('A') }] },
      status: 422,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a missing line patched',
      method: 'PATCH',
      path: (id) => `/orders/${id}/lines/nope`,
      body: { quantity: 2, version: 1 },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'a transition to an unknown state',
      method: 'POST',
      path: (id) => `/orders/${id}/transitions`,
      body: { to: 'paid', version: 1 },
      status: 422,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a line change without a precondition',
      method: 'POST',
      path: (id) => `/orders/${id}/lines`,
      body: line('A'),
      status: 428,
      code: 'PRECONDITION_REQUIRED',
    },
  ];

  it.each(badCases)('$name → $status $code', async ({ method, path, body, status, code }) => {
    const order = await createOrder();
    const before = await tableSnapshot();
    const answer = await api.call(method, path(order.id), { token: sales, body });
    expect([answer.status, answer.body.code]).toEqual([status, code]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a PUT over 100 changed items is 422 TOO_MANY_CHANGES before anything is written', async () => {
    const order = await createOrder([]);
    const before = await tableSnapshot();
    const answer = await api.call('PUT', `/orders/${order.id}`, {
      token: sales,
      headers: { 'if-match': '"1"' },
      body: { customer: 'X', lines: Array.from({ length: 100 }, (_, n) => line(`S${n}`)) },
    });
    expect([answer.status, answer.body.code]).toEqual([422, 'TOO_MANY_CHANGES']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a missing line deleted → 404 NOT_FOUND', async () => {
    const order = await createOrder();
    const before = await tableSnapshot();
    const answer = await api.call('DELETE', `/orders/${order.id}/lines/nope`, {
      token: sales,
      headers: { 'if-match': '"1"' },
    });
    expect([answer.status, answer.body.code]).toEqual([404, 'NOT_FOUND']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('roles: warehouse cannot create or edit orders', async () => {
    const order = await createOrder();
    const before = await tableSnapshot();
    const create = await api.call('POST', '/orders', { token: warehouse, body: { customer: 'X' } });
    const edit = await api.call('POST', `/orders/${order.id}/lines`, {
      token: warehouse,
      headers: { 'if-match': '"1"' },
      body: line('C'),
    });
    expect([create.status, edit.status]).toEqual([403, 403]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a client sees ApiError with the problem code', async () => {
    const client = api.client(sales);
    await expect(client.getOrder('missing')).rejects.toBeInstanceOf(ApiError);
    await expect(client.getOrder('missing')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});
