import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setClockOffset } from '../../lib/clock';
import { useApi } from '../support/api';
import { networkTimeout, withFault } from '../support/sdk';
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

afterEach(() => setClockOffset(0));

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

  it('a PUT whose response was lost, retried with the same key, answers success and applies once', async () => {
    const { id } = await create();
    const request = {
      token: alice,
      headers: { 'if-match': '"1"', 'idempotency-key': 'put-lost-1' },
      body: { name: 'applied once' },
    };
    const { result: first, injected } = await withFault(
      { ...lostResponse('UpdateItemCommand'), layer: 'outside-retries' },
      () => api.call('PUT', `/annotations/${id}`, request),
    );
    expect(injected).toBe(1);
    expect(first.status).toBe(500);
    expect(first.body).toEqual({
      type: 'https://no-lost-updates.dev/problems/internal',
      title: 'Internal error',
      status: 500,
      detail: 'Something went wrong on our side.',
      code: 'INTERNAL',
      requestId: first.body.requestId,
    });

    const retry = await api.call('PUT', `/annotations/${id}`, request);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toMatchObject({ name: 'applied once', version: 2 });
    const stored = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect(stored.body.version).toBe(2);
  });

  it('a create whose response was lost, retried with the same key, makes one record', async () => {
    const before = (await tableSnapshot()).length;
    const request = { token: alice, headers: { 'idempotency-key': 'create-lost-1' }, body: { name: 'once' } };
    const { result: first } = await withFault(
      { ...lostResponse('PutItemCommand'), layer: 'outside-retries' },
      () => api.call('POST', '/annotations', request),
    );
    expect(first.status).toBe(500);
    const retry = await api.call('POST', '/annotations', request);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toMatchObject({ name: 'once', version: 1 });
    expect((await tableSnapshot()).length).toBe(before + 1);
  });

  it('a write the SDK itself retries after a lost response meets its own write and succeeds, without a key', async () => {
    const { id } = await create();
    const { result, injected } = await withFault(
      {
        when: (name) => name === 'UpdateItemCommand',
        at: 'after',
        error: networkTimeout,
        layer: 'inside-retries',
        times: 1,
      },
      () =>
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

  it('a keyed delete retried after a lost response answers 204 again', async () => {
    const { id } = await create();
    const request = { token: alice, headers: { 'if-match': '"1"', 'idempotency-key': 'del-1' } };
    const { result: first } = await withFault(
      { ...lostResponse('UpdateItemCommand'), layer: 'outside-retries' },
      () => api.call('DELETE', `/annotations/${id}`, request),
    );
    expect(first.status).toBe(500);
    const retry = await api.call('DELETE', `/annotations/${id}`, request);
    expect(retry.status).toBe(204);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await api.call('GET', `/annotations/${id}`, { token: alice })).status).toBe(410);
  });
});
