import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { keyOf } from '../../lib/core/keys';
import { db, tableName } from '../../lib/db/client';
import { type CallResult, useApi } from '../support/api';
import { type Fault, networkTimeout, withFault } from '../support/sdk';

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

let unique = 0;
const next = (prefix: string) => `${prefix}-${++unique}-${Date.now()}`;

const ok = (answer: CallResult, status: number) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer.body;
};

const storedItem = async (type: string, id: string) =>
  (
    await db().send(
      new GetCommand({ TableName: tableName(), Key: keyOf({ type }, id), ConsistentRead: true }),
    )
  ).Item ?? {};

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
  it('a renewal answers 409 LOCK_LOST, never with the new holder’s token; a write with the old token is refused', async () => {
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
      result.body.code,
      JSON.stringify(result.body).includes(String(bob.lease?.token)),
    ]).toEqual([409, 'LOCK_LOST', false]);
    const write = await api.call('PATCH', `/annotations/${id}`, {
      token: tokens.alice,
      headers: { 'if-match': '*', 'lock-token': alice.token },
      body: { name: 'under bob’s lock' },
    });
    expect([write.status, write.body.code]).toEqual([423, 'LOCKED']);
    const stored = await storedItem('ANNOTATION', id);
    expect([stored.name, stored.lock?.owner, stored.lockFence]).toEqual(['locked', 'bob', 2]);
  });

  it('an acquisition answers 409 LOCK_LOST, never a lease whose fence another one holds', async () => {
    const id = await createAnnotation();
    const bob: { lease?: Record<string, unknown> } = {};
    const { result, injected } = await withFault(lostWhileRetaken(id, bob), () =>
      api.call('POST', `/annotations/${id}/lock`, { token: tokens.alice, body: { ttlSeconds: 60 } }),
    );
    expect(injected).toBe(1);
    expect([result.status, result.body.code, bob.lease?.fence]).toEqual([409, 'LOCK_LOST', 2]);
    const stored = await storedItem('ANNOTATION', id);
    expect([stored.lock?.owner, stored.lock?.token, stored.lockFence]).toEqual(['bob', bob.lease?.token, 2]);
  });
});
