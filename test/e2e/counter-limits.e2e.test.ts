import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EntitySpec, keyOf } from '../../lib/core/build/keys';
import { COUNTER_LIMIT } from '../../lib/core/features/counters/counters';
import { db } from '../../lib/db/client';
import { tableName } from '../../lib/db/table-name';
import { accountEntity } from '../../lib/domain/accounts';
import { articleEntity } from '../../lib/domain/articles';
import { debtorEntity } from '../../lib/domain/debtors';
import { useApi } from '../support/api';
import { recordRequests } from '../support/sdk';
import { tableSnapshot } from '../support/table';

const api = useApi();
let finance = '';
let relations = '';
let purchasing = '';
let warehouse = '';

beforeAll(async () => {
  [finance, relations, purchasing, warehouse] = await Promise.all([
    api.tokenFor('fiona', 'finance'),
    api.tokenFor('carl', 'customer-relations'),
    api.tokenFor('paula', 'purchasing'),
    api.tokenFor('walt', 'warehouse'),
  ]);
});

/**
 * Sets a stored counter straight in the table, where thousands of movements would have
 * taken it, so a test starts next to the limit in one write.
 */
const seedCounter = async (entity: EntitySpec, id: string, attribute: string, value: number) => {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: 'SET #counter = :value',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#counter': attribute },
      ExpressionAttributeValues: { ':value': value },
    }),
  );
};

const aboveDetail = (label: string) =>
  `The ${label} would rise above ${COUNTER_LIMIT}, the most it may hold.`;
const belowDetail = (label: string) =>
  `The ${label} would fall below -${COUNTER_LIMIT}, the least it may hold.`;

const openAccount = async (): Promise<string> => {
  const created = await api.call('POST', '/accounts', {
    token: finance,
    body: { name: 'Till', currency: 'EUR' },
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
};

const money = (path: string, key: string, body: Record<string, unknown>) =>
  api.call('POST', path, { token: finance, headers: { 'idempotency-key': key }, body });
const deposit = (id: string, amount: number, key: string) =>
  money(`/accounts/${id}/deposits`, key, { amount });
const withdraw = (id: string, amount: number, key: string) =>
  money(`/accounts/${id}/withdrawals`, key, { amount });

const openDebtor = async (): Promise<string> => {
  const created = await api.call('POST', '/debtors', { token: relations, body: { name: 'Acme' } });
  expect(created.status).toBe(201);
  return created.body.id as string;
};

const post = (id: string, amount: number, key: string) =>
  api.call('POST', `/debtors/${id}/postings`, {
    token: finance,
    headers: { 'idempotency-key': key },
    body: { amount, reference: 'INV-1' },
  });

const createArticle = async (sku: string): Promise<void> => {
  const created = await api.call('POST', '/articles', {
    token: purchasing,
    body: { id: sku, description: 'Bolt' },
  });
  expect(created.status).toBe(201);
};

const move = (sku: string, delta: number, key: string) =>
  api.call('POST', `/articles/${sku}/stock-movements`, {
    token: warehouse,
    headers: { 'idempotency-key': key },
    body: { delta, reason: 'count' },
  });

describe('account balances stay within ±COUNTER_LIMIT', () => {
  it('the limit is an exact number in JSON, far inside 2^53', () => {
    expect(COUNTER_LIMIT).toBe(1_000_000_000_000_000);
    expect(Number.isSafeInteger(COUNTER_LIMIT + 1_000_000_000_000)).toBe(true);
  });

  it('a deposit that would pass the limit is 422 at /amount in one transaction, nothing written', async () => {
    const id = await openAccount();
    await seedCounter(accountEntity, id, 'balance', COUNTER_LIMIT - 5);
    const before = await tableSnapshot();
    const { result, commands } = await recordRequests(() => deposit(id, 10, `over-${id}`));
    expect([result.status, result.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(result.body.errors).toEqual([{ pointer: '/amount', detail: aboveDetail('balance') }]);
    expect(commands).toEqual(['TransactWriteItemsCommand']);
    expect(await tableSnapshot()).toEqual(before);
    const account = await api.call('GET', `/accounts/${id}`, { token: finance });
    expect([account.status, account.body.balance, account.body.version]).toEqual([200, COUNTER_LIMIT - 5, 1]);
    const entries = await api.call('GET', `/accounts/${id}/entries`, { token: finance });
    expect(entries.body).toEqual({ items: [] });
  });

  it('the key of a deposit refused at the limit is not spent: once there is room, the same request applies', async () => {
    const id = await openAccount();
    await seedCounter(accountEntity, id, 'balance', COUNTER_LIMIT - 5);
    const refused = await deposit(id, 10, `retry-${id}`);
    const again = await deposit(id, 10, `retry-${id}`);
    expect([refused.status, again.status]).toEqual([422, 422]);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect((await withdraw(id, 5, `room-${id}`)).status).toBe(201);
    const applied = await deposit(id, 10, `retry-${id}`);
    expect(applied.status).toBe(201);
    expect(applied.headers.get('idempotent-replayed')).toBeNull();
    expect(applied.body.balance).toBe(COUNTER_LIMIT);
    expect(applied.body.entry).toMatchObject({ accountId: id, kind: 'deposit', amount: 10 });
  });

  it('a deposit landing exactly on the limit is 201, and the account reads back exactly', async () => {
    const id = await openAccount();
    await seedCounter(accountEntity, id, 'balance', COUNTER_LIMIT - 1_000_000_000_000);
    const { result, commands } = await recordRequests(() => deposit(id, 1_000_000_000_000, `exact-${id}`));
    expect([result.status, result.body.balance]).toEqual([201, COUNTER_LIMIT]);
    expect(commands).toEqual(['TransactWriteItemsCommand', 'GetItemCommand', 'UpdateItemCommand']);
    const account = await api.call('GET', `/accounts/${id}`, { token: finance });
    expect([account.status, account.body.balance, account.body.version]).toEqual([200, COUNTER_LIMIT, 2]);
    expect(account.text).toContain(`"balance":${COUNTER_LIMIT},`);
    const oneMore = await deposit(id, 1, `one-more-${id}`);
    expect([oneMore.status, oneMore.body.errors]).toEqual([
      422,
      [{ pointer: '/amount', detail: aboveDetail('balance') }],
    ]);
  });

  it('at the limit a withdrawal still applies, and one the balance does not cover is still 409 INSUFFICIENT_FUNDS', async () => {
    const id = await openAccount();
    await seedCounter(accountEntity, id, 'balance', COUNTER_LIMIT);
    const taken = await withdraw(id, 1_000_000_000_000, `take-${id}`);
    expect([taken.status, taken.body.balance]).toEqual([201, COUNTER_LIMIT - 1_000_000_000_000]);
    const empty = await openAccount();
    const refused = await withdraw(empty, 1, `none-${empty}`);
    expect([refused.status, refused.body.code, refused.body.current.balance]).toEqual([
      409,
      'INSUFFICIENT_FUNDS',
      0,
    ]);
  });

  it('a transfer whose credit side would pass the limit is 422 at /amount, both balances unchanged', async () => {
    const from = await openAccount();
    const to = await openAccount();
    expect((await deposit(from, 100, `fund-${from}`)).status).toBe(201);
    await seedCounter(accountEntity, to, 'balance', COUNTER_LIMIT - 5);
    const before = await tableSnapshot();
    const answer = await money('/transfers', `tr-${from}`, { from, to, amount: 10 });
    expect([answer.status, answer.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(answer.body.errors).toEqual([{ pointer: '/amount', detail: aboveDetail('balance') }]);
    expect(await tableSnapshot()).toEqual(before);
    const balances = await Promise.all(
      [from, to].map(
        async (id) => (await api.call('GET', `/accounts/${id}`, { token: finance })).body.balance,
      ),
    );
    expect(balances).toEqual([100, COUNTER_LIMIT - 5]);
  });

  it('a transfer that both lacks cover and passes the limit answers the debit side first: 409 INSUFFICIENT_FUNDS', async () => {
    const from = await openAccount();
    const to = await openAccount();
    await seedCounter(accountEntity, to, 'balance', COUNTER_LIMIT);
    const before = await tableSnapshot();
    const answer = await money('/transfers', `both-${from}`, { from, to, amount: 10 });
    expect([answer.status, answer.body.code, answer.body.current.balance]).toEqual([
      409,
      'INSUFFICIENT_FUNDS',
      0,
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });
});

describe('debtor balances stay within ±COUNTER_LIMIT', () => {
  it('a posting that would push the balance above +limit is 422 at /amount, nothing written', async () => {
    const id = await openDebtor();
    await seedCounter(debtorEntity, id, 'balance', COUNTER_LIMIT - 1);
    const before = await tableSnapshot();
    const answer = await post(id, 2, `up-${id}`);
    expect([answer.status, answer.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(answer.body.errors).toEqual([{ pointer: '/amount', detail: aboveDetail('balance') }]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a posting that would push the balance below −limit is 422 at /amount, nothing written', async () => {
    const id = await openDebtor();
    await seedCounter(debtorEntity, id, 'balance', -COUNTER_LIMIT + 1);
    const before = await tableSnapshot();
    const answer = await post(id, -2, `down-${id}`);
    expect([answer.status, answer.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(answer.body.errors).toEqual([{ pointer: '/amount', detail: belowDetail('balance') }]);
    expect(await tableSnapshot()).toEqual(before);
    const debtor = await api.call('GET', `/debtors/${id}`, { token: finance });
    expect([debtor.body.balance, debtor.body.version]).toEqual([-COUNTER_LIMIT + 1, 1]);
  });

  it('postings landing exactly on −limit and on +limit are 201', async () => {
    const low = await openDebtor();
    const high = await openDebtor();
    await seedCounter(debtorEntity, low, 'balance', -COUNTER_LIMIT + 1);
    await seedCounter(debtorEntity, high, 'balance', COUNTER_LIMIT - 1);
    const down = await post(low, -1, `exact-${low}`);
    const up = await post(high, 1, `exact-${high}`);
    expect([down.status, down.body]).toEqual([201, { balance: -COUNTER_LIMIT }]);
    expect([up.status, up.body]).toEqual([201, { balance: COUNTER_LIMIT }]);
  });
});

describe('article stock stays within COUNTER_LIMIT', () => {
  it('a stock movement that would pass the limit is 422 at /delta, nothing written', async () => {
    await createArticle('LIMIT-BOLT');
    await seedCounter(articleEntity, 'LIMIT-BOLT', 'inStock', COUNTER_LIMIT - 3);
    const before = await tableSnapshot();
    const answer = await move('LIMIT-BOLT', 4, 'limit-bolt-in');
    expect([answer.status, answer.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(answer.body.errors).toEqual([{ pointer: '/delta', detail: aboveDetail('stock') }]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('at the limit, stock that does not cover a removal is still 409 INSUFFICIENT_STOCK, and up to the limit is 201', async () => {
    await createArticle('LIMIT-NUT');
    await seedCounter(articleEntity, 'LIMIT-NUT', 'inStock', COUNTER_LIMIT - 3);
    const filled = await move('LIMIT-NUT', 3, 'limit-nut-in');
    expect([filled.status, filled.body]).toEqual([201, { inStock: COUNTER_LIMIT }]);
    await createArticle('EMPTY-NUT');
    const refused = await move('EMPTY-NUT', -1, 'empty-nut-out');
    expect([refused.status, refused.body.code, refused.body.current.inStock]).toEqual([
      409,
      'INSUFFICIENT_STOCK',
      0,
    ]);
  });
});
