import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setClockOffset } from '../../lib/clock';
import { SEND_ATTEMPTS } from '../../lib/core/send/send';
import { useApi } from '../support/api';
import { captureErrorLog } from '../support/logs';
import { lostAnswerRetriedBySdk, withFault } from '../support/sdk';
import { tableSnapshot } from '../support/table';

const api = useApi();
let alice = '';
let bob = '';

beforeAll(async () => {
  alice = await api.tokenFor('alice');
  bob = await api.tokenFor('bob');
});

const create = async (name = 'n') =>
  (await api.call('POST', '/annotations', { token: alice, body: { name } })).body as { id: string };

const lostResponse = (command: string) => ({
  when: (name: string) => name === command,
  at: 'after' as const,
  error: () => new Error('socket hang up after the write'),
});

afterEach(() => {
  setClockOffset(0);
  vi.restoreAllMocks();
});

describe('Idempotency-Key', () => {
  it('is remembered for 24 hours, decided by timestamps', async () => {
    const request = { token: alice, headers: { 'idempotency-key': 'day-long' }, body: { name: 'daily' } };
    const first = await api.call('POST', '/annotations', request);
    setClockOffset(23 * 3600 * 1000);
    const withinDay = await api.call('POST', '/annotations', request);
    setClockOffset(25 * 3600 * 1000);
    const nextDay = await api.call('POST', '/annotations', request);
    expect([first.status, withinDay.status, nextDay.status]).toEqual([201, 201, 201]);
    expect(withinDay.body.id).toBe(first.body.id);
    expect(withinDay.headers.get('idempotent-replayed')).toBe('true');
    expect(nextDay.body.id).not.toBe(first.body.id);
    expect(nextDay.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a PUT whose every answer was lost: 503 OUTCOME_UNKNOWN; repeated with the same key, success, applied once', async () => {
    const { id } = await create();
    const request = {
      token: alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'put-lost-1' },
      body: { name: 'applied once' },
    };
    const log = captureErrorLog();
    const { result: first, injected } = await withFault(
      { ...lostResponse('TransactWriteItemsCommand'), layer: 'outside-retries' },
      () => api.call('PUT', `/annotations/${id}`, request),
    );
    expect(injected).toBe(SEND_ATTEMPTS);
    expect([first.status, first.headers.get('retry-after')]).toEqual([503, '1']);
    expect(first.body).toEqual({
      type: 'https://no-lost-updates.dev/problems/outcome-unknown',
      title: 'Outcome unknown',
      status: 503,
      detail:
        'The request may or may not have been applied. Repeat it with the same Idempotency-Key to get its answer; without a key, read the record before deciding.',
      code: 'OUTCOME_UNKNOWN',
      requestId: first.body.requestId,
    });
    // The cause is in the log, under the same request id, and never in the answer.
    expect(log.lines()).toEqual([
      { level: 'error', requestId: first.body.requestId, error: expect.stringContaining('socket hang up') },
    ]);

    const retry = await api.call('PUT', `/annotations/${id}`, request);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toMatchObject({ name: 'applied once', version: 2 });
    const stored = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect(stored.body.version).toBe(2);
  });

  it('a create whose every answer was lost: 503; repeated with the same key, one record', async () => {
    const before = (await tableSnapshot()).length;
    const request = { token: alice, headers: { 'idempotency-key': 'create-lost-1' }, body: { name: 'once' } };
    const log = captureErrorLog();
    const { result: first } = await withFault(
      { ...lostResponse('TransactWriteItemsCommand'), layer: 'outside-retries' },
      () => api.call('POST', '/annotations', request),
    );
    expect([first.status, log.lines().map((line) => line.requestId)]).toEqual([503, [first.body.requestId]]);
    const retry = await api.call('POST', '/annotations', request);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toMatchObject({ name: 'once', version: 1 });
    // One record and its key's record.
    expect((await tableSnapshot()).length).toBe(before + 2);
  });

  it('a write the SDK itself retries after a lost response meets its own write and succeeds, without a key', async () => {
    const { id } = await create();
    const { result, injected } = await withFault(lostAnswerRetriedBySdk('UpdateItemCommand'), () =>
      api.call('PUT', `/annotations/${id}`, {
        token: alice,
        headers: { 'if-match': '"1"' },
        body: { name: 'x' },
      }),
    );
    expect(injected).toBe(1);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ name: 'x', version: 2 });
  });

  it('a repeat with the same key and body gets the first answer and changes nothing', async () => {
    const { id } = await create();
    const request = {
      token: alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'k-repeat' },
      body: { tags: ['x'] },
    };
    const first = await api.call('PATCH', `/annotations/${id}`, request);
    const before = await tableSnapshot();
    const repeat = await api.call('PATCH', `/annotations/${id}`, request);
    expect(first.status).toBe(200);
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.body).toEqual(first.body);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('concurrent repeats of one keyed create make one record', async () => {
    const request = { token: bob, headers: { 'idempotency-key': 'k-concurrent' }, body: { name: 'racing' } };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api.call('POST', '/annotations', request)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(201));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(answers.filter((answer) => answer.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
  });

  it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const { id } = await create();
    await api.call('PATCH', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'k-reuse' },
      body: { tags: ['x'] },
    });
    const before = await tableSnapshot();
    const reuse = await api.call('PATCH', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'k-reuse' },
      body: { tags: ['y'] },
    });
    expect(reuse.status).toBe(422);
    expect(reuse.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await tableSnapshot()).toEqual(before);
  });

  it('keys are scoped to the caller: the same key from another user is a new request', async () => {
    const first = await api.call('POST', '/annotations', {
      token: alice,
      headers: { 'idempotency-key': 'shared-key' },
      body: { name: 'a' },
    });
    const other = await api.call('POST', '/annotations', {
      token: bob,
      headers: { 'idempotency-key': 'shared-key' },
      body: { name: 'a' },
    });
    expect([first.status, other.status]).toEqual([201, 201]);
    expect(other.body.id).not.toBe(first.body.id);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a keyed delete whose every answer was lost: 503; repeated, 204', async () => {
    const { id } = await create();
    const request = { token: alice, headers: { 'if-match': '"1"', 'idempotency-key': 'del-1' } };
    const log = captureErrorLog();
    const { result: first } = await withFault(
      { ...lostResponse('TransactWriteItemsCommand'), layer: 'outside-retries' },
      () => api.call('DELETE', `/annotations/${id}`, request),
    );
    expect([first.status, log.lines().map((line) => line.requestId)]).toEqual([503, [first.body.requestId]]);
    const retry = await api.call('DELETE', `/annotations/${id}`, request);
    expect(retry.status).toBe(204);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await api.call('GET', `/annotations/${id}`, { token: alice })).status).toBe(410);
  });
  it('a keyed create repeated after later changes and a delete gets its first answer, exactly', async () => {
    const createRequest = {
      token: alice,
      headers: { 'idempotency-key': 'create-then-changed' },
      body: { name: 'kept' },
    };
    const itemsBefore = (await tableSnapshot()).length;
    const first = await api.call('POST', '/annotations', createRequest);
    const id = first.body.id as string;
    const changed = await api.call('PATCH', `/annotations/${id}`, {
      token: bob,
      headers: { 'if-match': '"1"', 'idempotency-key': 'bob-change' },
      body: { description: 'by bob' },
    });
    const replay = await api.call('POST', '/annotations', createRequest);
    await api.call('DELETE', `/annotations/${id}`, {
      token: bob,
      headers: { 'if-match': '"2"', 'idempotency-key': 'bob-delete' },
    });
    const afterDelete = await api.call('POST', '/annotations', createRequest);
    expect([first.status, changed.status, replay.status, afterDelete.status]).toEqual([201, 200, 201, 201]);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(afterDelete.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(afterDelete.body).toEqual(first.body);
    // The record (a tombstone now), alice's key record and bob's two.
    expect(await tableSnapshot()).toHaveLength(itemsBefore + 4);
  });

  it('a keyed order create retried after another user changed the order makes no second order', async () => {
    const [salesAlice, salesBob] = await Promise.all([
      api.tokenFor('alice', 'sales'),
      api.tokenFor('bob', 'sales'),
    ]);
    const request = {
      token: salesAlice,
      headers: { 'idempotency-key': 'order-create-1' },
      body: { customer: 'Once GmbH', lines: [{ sku: 'A-1', quantity: 1, unitPrice: 100 }] },
    };
    const first = await api.call('POST', '/orders', request);
    await api.call('PATCH', `/orders/${first.body.id}`, {
      token: salesBob,
      headers: { 'if-match': '"1"', 'idempotency-key': 'bob-notes' },
      body: { notes: 'call first' },
    });
    const replay = await api.call('POST', '/orders', request);
    expect([first.status, replay.status, replay.body.id]).toEqual([201, 201, first.body.id]);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const headers = (await tableSnapshot()).filter((item) => item.customer === 'Once GmbH');
    expect(headers).toHaveLength(1);
  });

  it('a keyed overwrite (If-Match: *) retried after another user changed the record is not applied again', async () => {
    const { id } = await create();
    const overwrite = {
      token: alice,
      headers: { 'if-match': '*', 'idempotency-key': 'star-1' },
      body: { name: 'alice' },
    };
    const first = await api.call('PUT', `/annotations/${id}`, overwrite);
    const bobs = await api.call('PUT', `/annotations/${id}`, {
      token: bob,
      headers: { 'if-match': '"2"', 'idempotency-key': 'bob-put' },
      body: { name: 'bob' },
    });
    const retry = await api.call('PUT', `/annotations/${id}`, overwrite);
    expect([first.status, bobs.status, retry.status]).toEqual([200, 200, 200]);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const stored = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect([stored.body.name, stored.body.version]).toEqual(['bob', 3]);
  });

  it('a keyed overwrite repeated after many newer versions gets its first answer and is not applied again', async () => {
    const { id } = await create();
    const overwrite = {
      token: alice,
      headers: { 'if-match': '*', 'idempotency-key': 'star-long' },
      body: { name: 'alice' },
    };
    const first = await api.call('PUT', `/annotations/${id}`, overwrite);
    for (let version = 2; version < 30; version += 1) {
      const answer = await api.call('PATCH', `/annotations/${id}`, {
        token: bob,
        headers: { 'if-match': `"${version}"`, 'idempotency-key': `bob-long-${version}` },
        body: { name: `bob ${version}` },
      });
      expect(answer.status).toBe(200);
    }
    const before = await tableSnapshot();
    const repeat = await api.call('PUT', `/annotations/${id}`, overwrite);
    expect([repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(repeat.body).toEqual(first.body);
    expect(await tableSnapshot()).toEqual(before);
    const other = await create();
    const reused = await api.call('PUT', `/annotations/${other.id}`, {
      ...overwrite,
      body: { name: 'elsewhere' },
    });
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
  });

  it('a keyed overwrite repeated after the record was deleted gets its first answer, not the tombstone', async () => {
    const { id } = await create();
    const overwrite = {
      token: alice,
      headers: { 'if-match': '*', 'idempotency-key': 'star-del' },
      body: { name: 'a' },
    };
    const first = await api.call('PUT', `/annotations/${id}`, overwrite);
    await api.call('DELETE', `/annotations/${id}`, { token: bob, headers: { 'if-match': '"2"' } });
    const repeat = await api.call('PUT', `/annotations/${id}`, overwrite);
    expect([first.status, repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([
      200,
      200,
      'true',
    ]);
    expect(repeat.body).toEqual(first.body);
    expect((await api.call('GET', `/annotations/${id}`, { token: alice })).status).toBe(410);
  });

  it('a change naming a version the record never had is stale, even if it holds the change', async () => {
    const { id } = await create('same');
    const future = await api.call('PATCH', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"9"' },
      body: { name: 'same' },
    });
    expect([future.status, future.body.code, future.body.current.version]).toEqual([412, 'STALE_DATA', 1]);
  });

  it('a keyed change repeated after 25 other writes gets its first answer, exactly, and writes nothing', async () => {
    const { id } = await create();
    const mine = {
      token: alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'mine-1' },
      body: { name: 'alice' },
    };
    const first = await api.call('PATCH', `/annotations/${id}`, mine);
    for (let version = 2; version < 27; version += 1) {
      const answer = await api.call('PATCH', `/annotations/${id}`, {
        token: bob,
        headers: {
          'if-match': `"${version}"`,
          ...(version % 2 ? { 'idempotency-key': `bob-${version}` } : {}),
        },
        body: { name: `bob ${version}` },
      });
      expect(answer.status).toBe(200);
    }
    const before = await tableSnapshot();
    const repeat = await api.call('PATCH', `/annotations/${id}`, mine);
    expect([first.status, repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([
      200,
      200,
      'true',
    ]);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.body.version).toBe(2);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a record keeps the attempt ids of its last 8 versioned writes, however many it takes', async () => {
    const ring = (name: string) => /^@v\d$/.test(name);
    const { id } = await create('register');
    let version = 1;
    for (let write = 0; write < 30; write += 1) {
      const answer = await api.call('PATCH', `/annotations/${id}`, {
        token: bob,
        headers: { 'if-match': `"${version}"` },
        body: { name: `register ${version}` },
      });
      expect(answer.status).toBe(200);
      version = answer.body.version;
    }
    const item = (await tableSnapshot()).find((stored) => stored.id === id) ?? {};
    expect(version).toBe(31);
    expect(Object.keys(item).filter(ring)).toHaveLength(8);
    expect(Object.keys(item).filter((name) => /^@w\d$/.test(name))).toHaveLength(0);
  });

  it('a key reused on the same record after its 24 hours is a new request, not a conflict', async () => {
    const { id } = await create();
    const first = await api.call('PATCH', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'daily-edit' },
      body: { name: 'monday' },
    });
    setClockOffset(25 * 3600 * 1000);
    const nextDay = await api.call('PATCH', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"2"', 'idempotency-key': 'daily-edit' },
      body: { name: 'tuesday' },
    });
    expect([first.status, nextDay.status, nextDay.body.name, nextDay.body.version]).toEqual([
      200,
      200,
      'tuesday',
      3,
    ]);
    expect(nextDay.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a keyed change is answered as applied even after someone else locked the record', async () => {
    const { id } = await create();
    const mine = {
      token: alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'before-lock' },
      body: { name: 'alice' },
    };
    await api.call('PATCH', `/annotations/${id}`, mine);
    const lock = await api.call('POST', `/annotations/${id}/lock`, { token: bob, body: {} });
    const retry = await api.call('PATCH', `/annotations/${id}`, mine);
    expect([lock.status, retry.status, retry.headers.get('idempotent-replayed')]).toEqual([201, 200, 'true']);
  });

  it('an order header change and a transition the SDK retries after a lost response answer success', async () => {
    const sales = await api.tokenFor('alice', 'sales');
    const order = await api.call('POST', '/orders', {
      token: sales,
      body: { customer: 'Lost GmbH', lines: [{ sku: 'A-1', quantity: 1, unitPrice: 100 }] },
    });
    const supervisor = await api.tokenFor('carol', 'supervisor');
    const lostOnce = lostAnswerRetriedBySdk('UpdateItemCommand');
    const patched = await withFault(lostOnce, () =>
      api.call('PATCH', `/orders/${order.body.id}`, {
        token: sales,
        headers: { 'if-match': '"1"' },
        body: { notes: 'deliver monday' },
      }),
    );
    const approved = await withFault(lostOnce, () =>
      api.call('POST', `/orders/${order.body.id}/transitions`, {
        token: supervisor,
        headers: { 'if-match': '"2"' },
        body: { to: 'approved' },
      }),
    );
    expect([patched.injected, patched.result.status, patched.result.body.version]).toEqual([1, 200, 2]);
    expect([approved.injected, approved.result.status, approved.result.body.status]).toEqual([
      1,
      200,
      'approved',
    ]);
    // The same transition sent again, as a new request: stale, and already there.
    const again = await api.call('POST', `/orders/${order.body.id}/transitions`, {
      token: supervisor,
      headers: { 'if-match': '"2"' },
      body: { to: 'approved' },
    });
    expect([
      again.status,
      again.body.code,
      again.body.changeAlreadyPresent,
      again.body.current.version,
    ]).toEqual([412, 'STALE_DATA', true, 3]);
  });

  it('a delete the SDK retries after a lost response answers 204, without a key', async () => {
    const { id } = await create();
    const { result, injected } = await withFault(lostAnswerRetriedBySdk('UpdateItemCommand'), () =>
      api.call('DELETE', `/annotations/${id}`, { token: alice, headers: { 'if-match': '"1"' } }),
    );
    expect([injected, result.status]).toEqual([1, 204]);
  });
  it('the same natural key created twice without a key is 409 ALREADY_EXISTS, even for the same caller', async () => {
    const purchasing = await api.tokenFor('grace', 'purchasing');
    const request = { token: purchasing, body: { id: 'BOLT-TWICE', description: 'Bolt', salesPrice: 25 } };
    const first = await api.call('POST', '/articles', request);
    const before = await tableSnapshot();
    const second = await api.call('POST', '/articles', request);
    expect([first.status, second.status, second.body.code]).toEqual([201, 409, 'ALREADY_EXISTS']);
    expect(await tableSnapshot()).toEqual(before);
  });
  it('a keyed batch repeated answers Idempotent-Replayed and changes nothing, in both modes', async () => {
    for (const atomic of [false, true]) {
      const [a, b] = [await create('a'), await create('b')];
      const request = {
        token: alice,
        headers: { 'idempotency-key': `batch-${atomic}` },
        body: {
          atomic,
          updates: [
            { id: a.id, version: 1, set: { name: 'a2' } },
            { id: b.id, version: 1, set: { name: 'b2' } },
          ],
        },
      };
      const first = await api.call('POST', '/annotations/batch', request);
      const before = await tableSnapshot();
      const repeat = await api.call('POST', '/annotations/batch', request);
      expect([first.status, first.headers.get('idempotent-replayed')]).toEqual([200, null]);
      expect([repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
      expect(repeat.body).toEqual(first.body);
      expect(await tableSnapshot()).toEqual(before);
    }
  });
});
