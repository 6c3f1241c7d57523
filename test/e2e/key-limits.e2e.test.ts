import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setClockOffset } from '../../lib/clock';
import { CLAIM_STALE_MS } from '../../lib/core/build/key-record';
import { type CallResult, useApi } from '../support/api';
import { throttled, withFault } from '../support/sdk';
import { tableSnapshot } from '../support/table';

/**
 * A key never changes what is accepted: the same limits with an Idempotency-Key and
 * without, and a keyed request's kept answer never turns into a 4xx after it wrote, however
 * large the change or its answer.
 */
const api = useApi();
let sales = '';

beforeAll(async () => {
  sales = await api.tokenFor('alice', 'sales');
});

afterEach(() => setClockOffset(0));

let unique = 0;
const key = (name: string) => ({ 'idempotency-key': `${name}-${++unique}-${Date.now()}` });

const lines = (count: number, description = 'a line') =>
  Array.from({ length: count }, (_, n) => ({ sku: `SKU-${n}`, description, quantity: 1, unitPrice: 10 }));

const createOrder = (count: number, headers: Record<string, string> = {}, customer = 'Big') =>
  api.call('POST', '/orders', { token: sales, headers, body: { customer, lines: lines(count) } });

const orderItems = async (id: string) => (await tableSnapshot()).filter((item) => item.pk === `ORDER#${id}`);

describe('the documented limits, with a key and without', () => {
  it.each([
    ['without a key', false],
    ['with a key', true],
  ])(
    'an order of 99 lines (the most a create takes) is created %s, and its repeat is its answer',
    async (_, keyed) => {
      const headers = keyed ? key('create-99') : {};
      const customer = `Ninety-nine ${++unique}`;
      const first = await createOrder(99, headers, customer);
      expect([first.status, first.body.lines.length, first.body.version]).toEqual([201, 99, 1]);
      expect(await orderItems(first.body.id)).toHaveLength(100);
      if (!keyed) return;
      const repeat = await createOrder(99, headers, customer);
      expect([repeat.status, repeat.headers.get('idempotent-replayed'), repeat.text === first.text]).toEqual([
        201,
        'true',
        true,
      ]);
      // One order, not two.
      expect(
        (await tableSnapshot()).filter((item) => item.customer === customer && item.sk === 'RECORD'),
      ).toHaveLength(1);
    },
  );

  it.each([
    ['without a key', false],
    ['with a key', true],
  ])(
    'PUT /orders writing 100 items (the header and 99 lines) is applied %s; 101 are 422 either way',
    async (_, keyed) => {
      const order = (await createOrder(1)).body;
      const replace = (count: number, headers: Record<string, string>) =>
        api.call('PUT', `/orders/${order.id}`, {
          token: sales,
          headers: { 'if-match': '"1"', ...headers },
          body: { customer: 'Replaced', lines: lines(count) },
        });
      const tooMany = await replace(101, keyed ? key('put-101') : {});
      expect([tooMany.status, tooMany.body.code]).toEqual([422, 'TOO_MANY_CHANGES']);
      // 98 new lines, and the one there removed: 99 line writes and the header.
      const headers = keyed ? key('put-99') : {};
      const first = await replace(98, headers);
      expect([first.status, first.body.version, first.body.lines.length]).toEqual([200, 2, 98]);
      if (!keyed) return;
      const repeat = await replace(98, headers);
      expect([repeat.status, repeat.headers.get('idempotent-replayed'), repeat.text === first.text]).toEqual([
        200,
        'true',
        true,
      ]);
      expect((await api.call('GET', `/orders/${order.id}`, { token: sales })).body.version).toBe(2);
    },
  );
});

describe('answers too large for one item are kept in parts', () => {
  it('a keyed batch of 100 stale items, each answered with its record, gives the same bytes again', async () => {
    // Records whose text does not compress: the answer is far larger than one item holds.
    const noise = (length: number) => randomBytes(length).toString('base64').slice(0, length);
    const ids: string[] = [];
    for (let n = 0; n < 100; n += 1)
      ids.push(
        (
          await api.call('POST', '/annotations', {
            token: sales,
            body: {
              name: noise(200),
              description: noise(5000),
              tags: Array.from({ length: 20 }, () => noise(50)),
            },
          })
        ).body.id,
      );
    const headers = key('big-batch');
    const batch = () =>
      api.call('POST', '/annotations/batch', {
        token: sales,
        headers,
        body: { updates: ids.map((id) => ({ id, version: 9, set: { name: 'x' } })) },
      });
    const first: CallResult = await batch();
    expect(first.status).toBe(200);
    expect(first.text.length).toBeGreaterThan(400_000);
    expect(first.body.results.every((result: { status: number }) => result.status === 409)).toBe(true);
    const repeat = await batch();
    expect([repeat.status, repeat.headers.get('idempotent-replayed'), repeat.text === first.text]).toEqual([
      200,
      'true',
      true,
    ]);
    const record = (await tableSnapshot()).find(
      (item) => String(item.pk).startsWith('IDEM#') && item.sk === 'IDEM' && item.parts !== undefined,
    );
    expect((record?.parts as { count: number } | undefined)?.count).toBeGreaterThan(1);
  });
});

describe('a change too large for one transaction with its key’s record', () => {
  it('whose answer could not be marked kept: its repeat, once the claim is stale, finds it committed and gives its answer', async () => {
    const headers = key('create-unmarked');
    // The change commits; marking its answer kept is throttled past every retry.
    const { result: first } = await withFault(
      {
        when: (command, input) => command === 'UpdateItemCommand' && JSON.stringify(input).includes('keptBy'),
        at: 'before',
        error: throttled,
        layer: 'outside-retries',
      },
      () => createOrder(99, headers),
    );
    expect([first.status, first.body.lines.length]).toEqual([201, 99]);
    // While the claim is fresh, a repeat waits; once it is stale, the repeat settles it.
    const early = await createOrder(99, headers);
    expect([early.status, early.body.code]).toEqual([409, 'IDEMPOTENCY_IN_PROGRESS']);
    setClockOffset(CLAIM_STALE_MS + 1000);
    const repeat = await createOrder(99, headers);
    expect([repeat.status, repeat.headers.get('idempotent-replayed'), repeat.text === first.text]).toEqual([
      201,
      'true',
      true,
    ]);
    expect((await tableSnapshot()).filter((item) => item.pk === `ORDER#${first.body.id}`)).toHaveLength(100);
  });
});
