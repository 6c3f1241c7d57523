import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyOf } from '../../lib/core/build/keys';
import { db } from '../../lib/db/client';
import { tableName } from '../../lib/db/table-name';
import { type CallResult, useApi } from '../support/api';
import { ok, storedItem } from '../support/fixtures';
import { recordRequests, withRewrittenAnswer } from '../support/sdk';
import { sendForTest } from '../support/table';

/**
 * The orders list shows each order's total, from the header alone: the header keeps every
 * line's amount, written in the same transaction as the line. The list's total is always the
 * order's own (the sum over its lines), whatever wrote the lines.
 */

const api = useApi();
let sam = '';
let sue = '';

beforeAll(async () => {
  sam = await api.tokenFor('sam', 'sales');
  sue = await api.tokenFor('sue', 'sales');
});

interface Line {
  lineId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
}

const line = (sku: string, quantity: number, unitPrice: number) => ({ sku, quantity, unitPrice });

const create = async (customer: string, lines: ReturnType<typeof line>[]) =>
  ok(await api.call('POST', '/orders', { token: sam, body: { customer, lines } }), 201) as {
    id: string;
    version: number;
    total: number;
    lines: Line[];
  };

/** The order's row in `GET /orders?q=`, as the list shows it. */
const listed = async (customer: string) => {
  const page = ok(await api.call('GET', `/orders?q=${encodeURIComponent(customer)}`, { token: sam }), 200);
  const rows = page.items.filter((item: { customer: string }) => item.customer === customer);
  expect(rows).toHaveLength(1);
  return rows[0] as { id: string; total?: number; lineCount: number; version: number };
};

/** The order as read, and the exact sum of its lines, in BigInt. */
const order = async (id: string) => {
  const read = ok(await api.call('GET', `/orders/${id}`, { token: sam }), 200);
  const sum = (read.lines as Line[]).reduce((s, l) => s + BigInt(l.quantity) * BigInt(l.unitPrice), 0n);
  return { read, sum };
};

/** The list shows the order's total and line count, and the total is the sum of the lines. */
const expectListed = async (customer: string, id: string, total: number) => {
  const { read, sum } = await order(id);
  expect(sum).toBe(BigInt(total));
  expect(read.total).toBe(total);
  const row = await listed(customer);
  expect([row.id, row.total, row.lineCount, row.version]).toEqual([
    id,
    total,
    read.lines.length,
    read.version,
  ]);
};

const write = (method: string, path: string, version: number | '*', body?: unknown, key?: string) =>
  api.call(method, path, {
    token: sam,
    headers: {
      'if-match': version === '*' ? '*' : `"${version}"`,
      ...(key ? { 'idempotency-key': key } : {}),
    },
    ...(body === undefined ? {} : { body }),
  });

describe("the orders list: every order's total", () => {
  it('is the sum of the lines after every kind of line write', async () => {
    const customer = 'Totals after every write';
    const created = await create(customer, [line('A', 2, 150), line('B', 1, 1000)]);
    await expectListed(customer, created.id, 1300);
    const [a, b] = created.lines as [Line, Line];
    const path = `/orders/${created.id}`;

    ok(await write('POST', `${path}/lines`, 1, line('C', 3, 7)), 201);
    await expectListed(customer, created.id, 1321);
    ok(await write('PATCH', `${path}/lines/${a.lineId}`, 2, { quantity: 5 }), 200);
    await expectListed(customer, created.id, 1771);
    ok(await write('PATCH', `${path}/lines/${a.lineId}`, 3, { unitPrice: 10 }), 200);
    await expectListed(customer, created.id, 1071);
    ok(await write('PATCH', `${path}/lines/${a.lineId}`, 4, { description: 'no amount' }), 200);
    await expectListed(customer, created.id, 1071);
    ok(await write('DELETE', `${path}/lines/${b.lineId}`, 5), 200);
    await expectListed(customer, created.id, 71);
    // `If-Match: *`, and a keyed add sent twice: the line and its amount once.
    ok(await write('POST', `${path}/lines`, '*', line('D', 1, 9)), 201);
    await expectListed(customer, created.id, 80);
    const first = ok(await write('POST', `${path}/lines`, 7, line('E', 4, 25), 'add-e'), 201);
    const again = await write('POST', `${path}/lines`, 7, line('E', 4, 25), 'add-e');
    expect([again.status, again.body]).toEqual([201, first]);
    await expectListed(customer, created.id, 180);
    // A replacement keeps one line, changes it, adds one: the total is the new lines'.
    ok(
      await write('PUT', path, 8, {
        customer,
        lines: [{ lineId: a.lineId, sku: 'A', quantity: 1, unitPrice: 1 }, line('F', 2, 2)],
      }),
      200,
    );
    await expectListed(customer, created.id, 5);
    ok(await write('PUT', path, 9, { customer, lines: [] }), 200);
    await expectListed(customer, created.id, 0);
    // The header keeps an amount per line, never a number past 2^53.
    expect((await storedItem('ORDER', created.id)).childAmounts).toEqual({});
  });

  it('past 2^53 is written as its exact digits, in the list as in the order', async () => {
    const customer = 'Totals past 2^53';
    const most = line('MAX', 1_000_000, 1_000_000_000);
    const created = await create(customer, [...Array.from({ length: 10 }, () => most), line('ONE', 1, 1)]);
    const exact = '10000000000000001';
    const listedText = (await api.call('GET', `/orders?q=${encodeURIComponent(customer)}`, { token: sam }))
      .text;
    expect(listedText).toContain(`"total":${exact}`);
    expect((await api.call('GET', `/orders/${created.id}`, { token: sam })).text).toContain(
      `"total":${exact}`,
    );
    expect((await order(created.id)).sum).toBe(BigInt(exact));
  });

  it('stays the sum of the lines while four people add, change and remove lines at once', async () => {
    const customer = 'Totals under contention';
    const created = await create(customer, [line('SEED', 1, 1)]);
    const path = `/orders/${created.id}`;
    const person = async (who: string, token: string) => {
      const answers: CallResult[] = [];
      for (let step = 0; step < 6; step += 1) {
        const added = await api.call('POST', `${path}/lines`, {
          token,
          headers: { 'if-match': '*' },
          body: line(`${who}-${step}`, step + 1, 100 + step),
        });
        answers.push(added);
        const lineId = added.body?.line?.lineId;
        if (added.status !== 201 || step % 2 === 0) continue;
        answers.push(
          await api.call('PATCH', `${path}/lines/${lineId}`, {
            token,
            headers: { 'if-match': '*' },
            body: { unitPrice: 7 * step },
          }),
        );
        if (step % 3 === 0) {
          answers.push(
            await api.call('DELETE', `${path}/lines/${lineId}`, { token, headers: { 'if-match': '*' } }),
          );
        }
      }
      return answers;
    };
    const answers = (
      await Promise.all([person('p1', sam), person('p2', sue), person('p3', sam), person('p4', sue)])
    ).flat();
    const applied = answers.filter((answer) => answer.status < 300).length;
    const { read, sum } = await order(created.id);
    // Every write that answered 2xx moved the version once (the order started at version 1).
    expect(read.version).toBeGreaterThanOrEqual(1 + applied);
    expect(read.total).toBe(Number(sum));
    const row = await listed(customer);
    expect([row.total, row.lineCount, row.version]).toEqual([Number(sum), read.lines.length, read.version]);
  });

  it('is kept from the next line write on, for an order stored before headers kept their lines', async () => {
    const forget = (id: string) =>
      sendForTest(() =>
        db().send(
          new UpdateCommand({
            TableName: tableName(),
            Key: keyOf({ type: 'ORDER' }, id),
            UpdateExpression: 'REMOVE childAmounts, childVersions',
          }),
        ),
      );
    const customers = ['Legacy add', 'Legacy remove', 'Legacy change', 'Legacy keyed add'];
    const orders = await Promise.all(
      customers.map((customer) => create(customer, [line('A', 2, 150), line('B', 1, 1000)])),
    );
    for (const [index, created] of orders.entries()) {
      await forget(created.id);
      const row = await listed(customers[index] as string);
      expect([row.total, row.lineCount]).toEqual([undefined, 2]);
    }
    const [add, remove, change, keyed] = orders as [
      (typeof orders)[number],
      (typeof orders)[number],
      (typeof orders)[number],
      (typeof orders)[number],
    ];

    // A line added or removed without a read finds no amounts kept: it reads the order and writes them all.
    const added = await recordRequests(() => write('POST', `/orders/${add.id}/lines`, 1, line('C', 1, 5)));
    expect([added.result.status, added.commands]).toEqual([
      201,
      ['TransactWriteItemsCommand', 'QueryCommand', 'TransactWriteItemsCommand'],
    ]);
    await expectListed('Legacy add', add.id, 1305);
    ok(await write('DELETE', `/orders/${remove.id}/lines/${remove.lines[1]?.lineId}`, 1), 200);
    await expectListed('Legacy remove', remove.id, 300);
    ok(
      await write('PATCH', `/orders/${change.id}/lines/${change.lines[0]?.lineId}`, 1, { quantity: 1 }),
      200,
    );
    await expectListed('Legacy change', change.id, 1150);
    const first = ok(await write('POST', `/orders/${keyed.id}/lines`, 1, line('C', 1, 5), 'legacy-add'), 201);
    const again = await write('POST', `/orders/${keyed.id}/lines`, 1, line('C', 1, 5), 'legacy-add');
    expect([again.status, again.body]).toEqual([201, first]);
    await expectListed('Legacy keyed add', keyed.id, 1305);
    // Once kept, the next write sets its own amount alone again.
    const next = await recordRequests(() => write('POST', `/orders/${add.id}/lines`, 2, line('D', 1, 1)));
    expect([next.result.status, next.commands]).toEqual([201, ['TransactWriteItemsCommand']]);
    await expectListed('Legacy add', add.id, 1306);
  });
});

/**
 * A Query is not isolated from transactions: while one commits, a read of the order may see
 * the header after it and a line before it (the header's sort key comes after the lines'). The
 * header keeps the version that last wrote each line, so such a read is known and made again.
 * DynamoDB Local never answers one, so the tests rewrite the answer of the first Query.
 */
describe('a read of an order that saw another write half applied', () => {
  /** An order of A = 2 × 150 and B = 1 × 1000, and Sue's change of A to 5 × 150 (version 2). */
  const changedBySue = async (customer: string) => {
    const created = await create(customer, [line('A', 2, 150), line('B', 1, 1000)]);
    const [a, b] = created.lines as [Line, Line];
    ok(
      await api.call('PATCH', `/orders/${created.id}/lines/${a.lineId}`, {
        token: sue,
        headers: { 'if-match': '"1"' },
        body: { quantity: 5 },
      }),
      200,
    );
    return { id: created.id, a, b };
  };
  /** Line `lineId` as it was before Sue's change: quantity 2, written in version 1. */
  const aBeforeSue = (lineId: string) => (output: Record<string, unknown>) => ({
    ...output,
    Items: (output.Items as Record<string, unknown>[]).map((item) =>
      item.lineId === lineId ? { ...item, quantity: 2, writtenIn: 1 } : item,
    ),
  });
  const halfApplied = <T>(
    rewrite: (output: Record<string, unknown>) => Record<string, unknown>,
    send: () => Promise<T>,
    times = 1,
  ) => withRewrittenAnswer('QueryCommand', rewrite, () => recordRequests(send), times);

  it('a line PATCH reads again and writes the amount from the line as it is', async () => {
    const customer = 'Half applied: PATCH';
    const { id, a } = await changedBySue(customer);
    const { result, rewritten } = await halfApplied(aBeforeSue(a.lineId), () =>
      write('PATCH', `/orders/${id}/lines/${a.lineId}`, 2, { unitPrice: 200 }),
    );
    expect([rewritten, result.commands]).toEqual([
      1,
      ['QueryCommand', 'QueryCommand', 'TransactWriteItemsCommand'],
    ]);
    expect([result.result.status, result.result.body.line]).toEqual([
      200,
      { lineId: a.lineId, sku: 'A', quantity: 5, unitPrice: 200 },
    ]);
    await expectListed(customer, id, 2000);
  });

  it("a PUT reads again: a line it would have taken as unchanged is written as sent, and the total is the lines'", async () => {
    const customer = 'Half applied: PUT of a changed line';
    const { id, a, b } = await changedBySue(customer);
    // Sam sends A as he last saw it (2 × 150), pinned to the version there is.
    const { result } = await halfApplied(aBeforeSue(a.lineId), () =>
      write('PUT', `/orders/${id}`, '*', {
        customer,
        lines: [
          { lineId: a.lineId, sku: 'A', quantity: 2, unitPrice: 150 },
          { lineId: b.lineId, sku: 'B', quantity: 1, unitPrice: 1000 },
        ],
      }),
    );
    expect(result.commands).toEqual(['QueryCommand', 'QueryCommand', 'TransactWriteItemsCommand']);
    expect(result.result.status).toBe(200);
    const { read } = await order(id);
    expect(read.lines.map((l: Line) => [l.sku, l.quantity, l.unitPrice])).toEqual([
      ['A', 2, 150],
      ['B', 1, 1000],
    ]);
    await expectListed(customer, id, 1300);
  });

  it('a PUT reads again: a line added by a transaction it did not see yet is removed as the PUT says, and counted', async () => {
    const customer = 'Half applied: PUT and a new line';
    const created = await create(customer, [line('A', 2, 150)]);
    const a = created.lines[0] as Line;
    const added = ok(await write('POST', `/orders/${created.id}/lines`, 1, line('C', 3, 7)), 201);
    const { result } = await halfApplied(
      (output) => ({
        ...output,
        Items: (output.Items as Record<string, unknown>[]).filter(
          (item) => item.lineId !== added.line.lineId,
        ),
      }),
      () =>
        write('PUT', `/orders/${created.id}`, 2, {
          customer,
          lines: [{ lineId: a.lineId, sku: 'A', quantity: 2, unitPrice: 150 }],
        }),
    );
    expect([result.result.status, result.commands]).toEqual([
      200,
      ['QueryCommand', 'QueryCommand', 'TransactWriteItemsCommand'],
    ]);
    await expectListed(customer, created.id, 300);
    expect((await order(created.id)).read.lines).toHaveLength(1);
  });

  it('a GET reads again and answers the order as one version', async () => {
    const customer = 'Half applied: GET';
    const { id, a } = await changedBySue(customer);
    const { result } = await halfApplied(aBeforeSue(a.lineId), () =>
      api.call('GET', `/orders/${id}`, { token: sam }),
    );
    expect(result.commands).toEqual(['QueryCommand', 'QueryCommand']);
    expect([
      result.result.body.version,
      result.result.body.total,
      result.result.body.lines[0].quantity,
    ]).toEqual([2, 1750, 5]);
  });

  it('a read that sees one half applied at every Query gives up with WRITE_CONTENTION, and writes nothing', async () => {
    const customer = 'Half applied: every time';
    const { id, a } = await changedBySue(customer);
    const { result } = await halfApplied(
      aBeforeSue(a.lineId),
      () => write('PATCH', `/orders/${id}/lines/${a.lineId}`, 2, { unitPrice: 200 }),
      Number.POSITIVE_INFINITY,
    );
    expect([result.result.status, result.result.body.code, result.result.headers.get('retry-after')]).toEqual(
      [409, 'WRITE_CONTENTION', '1'],
    );
    // Seen the same way twice, a read of one moment is asked: it finds Sue's change whole, so
    // this is a transaction half applied, not a header in the wrong, and the reads go on.
    expect(result.commands).toEqual([
      'QueryCommand',
      ...Array.from({ length: 4 }, () => ['QueryCommand', 'TransactGetItemsCommand']).flat(),
    ]);
    await expectListed(customer, id, 1750);
  });
});

/**
 * A line written past the API (a console, a script) leaves the header keeping other lines than
 * the ones stored. A read of one moment tells that from a transaction half applied: the lines
 * as stored are the order, and the next line write puts the header right.
 */
describe('an order whose lines were written past the API', () => {
  const pastTheApi = (send: () => Promise<unknown>) => sendForTest(send);

  it('a line put in by hand: read as stored, and counted in the list from the next write that reads the order', async () => {
    const customer = 'Past the API: a line put in';
    const created = await create(customer, [line('A', 2, 150)]);
    await pastTheApi(() =>
      db().send(
        new PutCommand({
          TableName: tableName(),
          Item: {
            ...keyOf({ type: 'ORDER' }, created.id),
            sk: 'LINE#by-hand',
            lineId: 'by-hand',
            sku: 'H',
            quantity: 1,
            unitPrice: 9,
            seq: '9999',
          },
        }),
      ),
    );
    const read = await recordRequests(() => api.call('GET', `/orders/${created.id}`, { token: sam }));
    expect(read.commands).toEqual(['QueryCommand', 'QueryCommand', 'TransactGetItemsCommand']);
    expect([read.result.status, read.result.body.total, read.result.body.lines.length]).toEqual([
      200, 309, 2,
    ]);
    // The header, not yet put right, still shows the lines it keeps.
    const before = await listed(customer);
    expect([before.total, before.lineCount]).toEqual([300, 1]);
    ok(
      await write('PATCH', `/orders/${created.id}/lines/${created.lines[0]?.lineId}`, 1, { quantity: 3 }),
      200,
    );
    await expectListed(customer, created.id, 459);
    // Put right: the next read is one Query.
    expect(
      (await recordRequests(() => api.call('GET', `/orders/${created.id}`, { token: sam }))).commands,
    ).toEqual(['QueryCommand']);
  });

  it('a line deleted by hand: read as stored, and left out of the list from the next write that reads the order', async () => {
    const customer = 'Past the API: a line deleted';
    const created = await create(customer, [line('A', 2, 150), line('B', 1, 1000)]);
    const b = created.lines[1] as Line;
    await pastTheApi(() =>
      db().send(
        new DeleteCommand({
          TableName: tableName(),
          Key: { ...keyOf({ type: 'ORDER' }, created.id), sk: `LINE#${b.lineId}` },
        }),
      ),
    );
    const read = ok(await api.call('GET', `/orders/${created.id}`, { token: sam }), 200);
    expect([read.total, read.lines.length]).toEqual([300, 1]);
    ok(
      await write('PATCH', `/orders/${created.id}/lines/${created.lines[0]?.lineId}`, 1, { quantity: 3 }),
      200,
    );
    await expectListed(customer, created.id, 450);
  });

  it('a line count set by hand: the lines are read in one Query, and the next write that reads the order counts them', async () => {
    const customer = 'Past the API: a line count';
    const created = await create(customer, [line('A', 2, 150), line('B', 1, 1000)]);
    await pastTheApi(() =>
      db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keyOf({ type: 'ORDER' }, created.id),
          UpdateExpression: 'SET lineCount = :wrong',
          ExpressionAttributeValues: { ':wrong': 7 },
        }),
      ),
    );
    const read = await recordRequests(() => api.call('GET', `/orders/${created.id}`, { token: sam }));
    expect([read.commands, read.result.body.lines.length]).toEqual([['QueryCommand'], 2]);
    ok(
      await write('PATCH', `/orders/${created.id}/lines/${created.lines[0]?.lineId}`, 1, { quantity: 3 }),
      200,
    );
    await expectListed(customer, created.id, 1450);
  });
});
