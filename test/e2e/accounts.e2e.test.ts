import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mapWithConcurrency } from '../../lib/core/send/backoff';
import { type CallResult, useApi } from '../support/api';
import { captureErrorLog } from '../support/logs';
import { recordRequests, withFault } from '../support/sdk';
import { tableSnapshot } from '../support/table';

const api = useApi();
let finance = '';

beforeAll(async () => {
  finance = await api.tokenFor('fiona', 'finance');
});

afterEach(() => vi.restoreAllMocks());

const openAccount = async (currency = 'EUR') => {
  const created = await api.call('POST', '/accounts', { token: finance, body: { name: 'Till', currency } });
  expect(created.status).toBe(201);
  return created.body.id as string;
};

const money = (path: string, key: string, body: Record<string, unknown>) =>
  api.call('POST', path, { token: finance, headers: { 'idempotency-key': key }, body });

/** The answer of a keyed request once it is known: an OUTCOME_UNKNOWN repeated with the same key (at most 5 times). */
const untilKnown = async (send: () => ReturnType<typeof money>) => {
  let answer = await send();
  for (let repeat = 1; repeat <= 5 && answer.body.code === 'OUTCOME_UNKNOWN'; repeat += 1)
    answer = await send();
  return answer;
};

const deposit = (id: string, amount: number, key: string) =>
  money(`/accounts/${id}/deposits`, key, { amount });
const withdraw = (id: string, amount: number, key: string) =>
  money(`/accounts/${id}/withdrawals`, key, { amount });

const balanceOf = async (id: string): Promise<number> =>
  (await api.call('GET', `/accounts/${id}`, { token: finance })).body.balance;

const allEntries = async (id: string): Promise<{ amount: number; createdAt: string }[]> => {
  const entries: { amount: number; createdAt: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.call(
      'GET',
      `/accounts/${id}/entries?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      {
        token: finance,
      },
    );
    expect(page.status).toBe(200);
    entries.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return entries;
};

describe('accounts: exactly-once money movement', () => {
  it('500 concurrent deposits of random amounts: the balance is their sum, with 500 entries', async () => {
    const id = await openAccount();
    const amounts = Array.from({ length: 500 }, (_, n) => 1 + ((n * 7919) % 100_000));
    const answers = await mapWithConcurrency(amounts, 50, (amount, n) =>
      deposit(id, amount, `dep-${id}-${n}`),
    );
    expect(answers.every((answer) => answer.status === 201)).toBe(true);
    expect(await balanceOf(id)).toBe(amounts.reduce((sum, amount) => sum + amount, 0));
    const entries = await allEntries(id);
    expect(entries).toHaveLength(500);
    expect(entries.map((entry) => entry.createdAt)).toEqual(
      [...entries.map((entry) => entry.createdAt)].sort().reverse(),
    );
  });

  it('200 concurrent withdrawals against a balance that covers some: never negative, exact, refusals INSUFFICIENT_FUNDS', async () => {
    const id = await openAccount();
    await deposit(id, 10_000, `seed-${id}`);
    const amounts = Array.from({ length: 200 }, (_, n) => 50 + (n % 5) * 25);
    const answers = await Promise.all(amounts.map((amount, n) => withdraw(id, amount, `wd-${id}-${n}`)));
    const accepted = amounts.filter((_, n) => answers[n]?.status === 201);
    const refused = answers.filter((answer) => answer.status !== 201);
    expect(refused.length).toBeGreaterThan(0);
    expect(
      refused.every((answer) => answer.status === 409 && answer.body.code === 'INSUFFICIENT_FUNDS'),
    ).toBe(true);
    expect(refused.every((answer) => answer.body.current.balance >= 0)).toBe(true);
    // The refusal carries the account as it is, and so its ETag.
    expect(refused.every((answer) => answer.headers.get('etag') === `"${answer.body.current.version}"`)).toBe(
      true,
    );
    expect(
      answers.filter((answer) => answer.status === 201).every((answer) => answer.body.balance >= 0),
    ).toBe(true);
    const balance = await balanceOf(id);
    expect(balance).toBe(10_000 - accepted.reduce((sum, amount) => sum + amount, 0));
    expect(balance).toBeGreaterThanOrEqual(0);
    const entries = await allEntries(id);
    expect(entries).toHaveLength(1 + accepted.length);
    expect(entries.reduce((sum, entry) => sum + entry.amount, 0)).toBe(balance);
  });

  it('300 concurrent transfers both ways among 4 accounts: the total holds and each balance is the sum of its entries', async () => {
    const ids = await Promise.all([openAccount(), openAccount(), openAccount(), openAccount()]);
    await Promise.all(ids.map((id) => deposit(id, 5_000, `seed-${id}`)));
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, n) => {
        const from = ids[n % 4] as string;
        const to = ids[(n * 3 + 1) % 4 === n % 4 ? (n + 1) % 4 : (n * 3 + 1) % 4] as string;
        return untilKnown(() =>
          money('/transfers', `tr-${ids[0]}-${n}`, { from, to, amount: 10 + (n % 13) * 40 }),
        );
      }),
    );
    // Each is applied, refused for funds, or (on a loaded machine, past the collision
    // retries) refused as WRITE_CONTENTION with nothing written: the contract's three answers
    // once an OUTCOME_UNKNOWN (DynamoDB Local gives up on a transaction that waited 10 s for
    // its lock) has been repeated with its key, as the contract says.
    expect(
      answers.filter(
        (answer) =>
          answer.status !== 201 && !['INSUFFICIENT_FUNDS', 'WRITE_CONTENTION'].includes(answer.body.code),
      ),
    ).toEqual([]);
    expect(answers.filter((answer) => answer.status === 201).length).toBeGreaterThan(0);
    const balances = await Promise.all(ids.map(balanceOf));
    expect(balances.reduce((sum, balance) => sum + balance, 0)).toBe(4 * 5_000);
    for (const [index, id] of ids.entries()) {
      const entries = await allEntries(id);
      expect(entries.reduce((sum, entry) => sum + entry.amount, 0)).toBe(balances[index]);
      expect(balances[index]).toBeGreaterThanOrEqual(0);
    }
    // A hang guard for a loaded machine (each repeat may wait out DynamoDB Local's 10 s), not a timing.
  }, 240_000);

  it('a request sent twice, in sequence or at once, with the same key applies once', async () => {
    const id = await openAccount();
    const first = await deposit(id, 700, 'twice');
    const second = await deposit(id, 700, 'twice');
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.entry).toEqual(first.body.entry);
    const together = await Promise.all(Array.from({ length: 8 }, () => withdraw(id, 100, 'together')));
    expect(together.map((answer) => answer.status)).toEqual(Array(8).fill(201));
    expect(new Set(together.map((answer) => answer.body.entry.entryId)).size).toBe(1);
    expect(await balanceOf(id)).toBe(600);
    expect(await allEntries(id)).toHaveLength(2);
  });

  it('a lost response on 10% of writes: each sent again under its token by the server, each deposit applied exactly once', async () => {
    const id = await openAccount();
    const amounts = Array.from({ length: 60 }, (_, n) => 100 + n);
    let lost = 0;
    const failedOnce = new Set<number>();
    const log = captureErrorLog();
    const { result: answers, injected } = await withFault(
      {
        // Every tenth deposit (amounts 100, 110, …) reaches the database and then loses its
        // response, on its first attempt only.
        when: (name, input) => {
          if (name !== 'TransactWriteItemsCommand') return false;
          const items = input.TransactItems as { Put?: { Item?: { amount?: unknown; entryId?: unknown } } }[];
          const entry = items.find((item) => item.Put?.Item?.entryId !== undefined)?.Put?.Item;
          const raw = entry?.amount as number | { N: string } | undefined;
          const amount = typeof raw === 'object' ? Number(raw.N) : Number(raw);
          if (amount % 10 !== 0 || failedOnce.has(amount)) return false;
          failedOnce.add(amount);
          return true;
        },
        at: 'after',
        error: () => new Error('connection reset after the write'),
        layer: 'outside-retries',
      },
      () =>
        mapWithConcurrency(amounts, 10, async (amount, n) => {
          const key = `lost-${id}-${n}`;
          let answer: CallResult = await deposit(id, amount, key);
          while (answer.status >= 500) {
            lost++;
            answer = await deposit(id, amount, key);
          }
          return answer;
        }),
    );
    // One write in ten lost its response: the server sent each again under its transaction's
    // token and answered it as the first attempt, so no client saw a failure.
    expect(injected).toBe(6);
    expect(lost).toBe(0);
    expect(log.lines()).toHaveLength(0);
    expect(answers.every((answer) => answer.status === 201)).toBe(true);
    expect(answers.filter((answer) => answer.headers.get('idempotent-replayed') === 'true')).toHaveLength(0);
    expect(await balanceOf(id)).toBe(amounts.reduce((sum, amount) => sum + amount, 0));
    expect(await allEntries(id)).toHaveLength(60);
  });

  it('throttling that outlasts the SDK retries is 503 THROTTLED with Retry-After, nothing written', async () => {
    const id = await openAccount();
    const before = await tableSnapshot();
    const { result } = await withFault(
      {
        when: (name) => name === 'TransactWriteItemsCommand',
        at: 'before',
        error: () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
        layer: 'outside-retries',
      },
      () => deposit(id, 100, 'throttled'),
    );
    expect([result.status, result.body.code, result.headers.get('retry-after')]).toEqual([
      503,
      'THROTTLED',
      '1',
    ]);
    expect(JSON.stringify(result.body)).not.toContain('ThrottlingException');
    expect(await tableSnapshot()).toEqual(before);
  });

  it('round trips: one transaction, one consistent read per balance, one write keeping the answer', async () => {
    const id = await openAccount();
    const other = await openAccount();
    const dep = await recordRequests(() => deposit(id, 500, `rt-${id}`));
    expect([dep.result.status, dep.commands]).toEqual([
      201,
      ['TransactWriteItemsCommand', 'GetItemCommand', 'UpdateItemCommand'],
    ]);
    const transfer = await recordRequests(() =>
      money('/transfers', `rt-tr-${id}`, { from: id, to: other, amount: 5 }),
    );
    expect(transfer.result.status).toBe(201);
    expect(transfer.commands).toEqual([
      'TransactWriteItemsCommand',
      'GetItemCommand',
      'GetItemCommand',
      'UpdateItemCommand',
    ]);
    expect(transfer.result.body.balances).toEqual({ [id]: 495, [other]: 5 });
  });
});

describe('accounts: listing entries', () => {
  it('entries of a well-formed id with no account are 404 NOT_FOUND, like the account itself', async () => {
    const missing = 'EUR-AAAAAAAAAAAAAAAAAAAAAA';
    const before = await tableSnapshot();
    const { result: entries, commands } = await recordRequests(() =>
      api.call('GET', `/accounts/${missing}/entries`, { token: finance }),
    );
    const account = await api.call('GET', `/accounts/${missing}`, { token: finance });
    expect([entries.status, entries.body.code]).toEqual([404, 'NOT_FOUND']);
    expect([account.status, account.body.code]).toEqual([404, 'NOT_FOUND']);
    expect(commands).toEqual(['QueryCommand', 'GetItemCommand']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('an account without entries lists none: 200, one Query and one GetItem', async () => {
    const id = await openAccount();
    const { result, commands } = await recordRequests(() =>
      api.call('GET', `/accounts/${id}/entries`, { token: finance }),
    );
    expect([result.status, result.body]).toEqual([200, { items: [] }]);
    expect(commands).toEqual(['QueryCommand', 'GetItemCommand']);
  });

  it('an account with entries lists them with one Query', async () => {
    const id = await openAccount();
    await deposit(id, 250, `list-${id}`);
    const { result, commands } = await recordRequests(() =>
      api.call('GET', `/accounts/${id}/entries`, { token: finance }),
    );
    expect(result.status).toBe(200);
    expect(result.body.items).toEqual([
      expect.objectContaining({ accountId: id, amount: 250, kind: 'deposit' }),
    ]);
    expect(commands).toEqual(['QueryCommand']);
  });

  it.each([
    ['the account record', 'RECORD'],
    ['the entry prefix without its separator', 'ENTRY'],
    ['a key past every entry', 'ZZZ'],
  ])(
    'an entries cursor whose sort key is %s is 400 MALFORMED_REQUEST before any request',
    async (_name, sk) => {
      const id = await openAccount();
      const cursor = Buffer.from(JSON.stringify({ pk: `ACCOUNT#${id}`, sk })).toString('base64url');
      const { result, commands } = await recordRequests(() =>
        api.call('GET', `/accounts/${id}/entries?cursor=${cursor}`, { token: finance }),
      );
      expect([result.status, result.body.code, result.body.detail]).toEqual([
        400,
        'MALFORMED_REQUEST',
        'The cursor is not one this API handed out.',
      ]);
      expect(commands).toEqual([]);
    },
  );

  it('an entries cursor inside the entries range still pages on', async () => {
    const id = await openAccount();
    await deposit(id, 1, `page-1-${id}`);
    await deposit(id, 2, `page-2-${id}`);
    const first = await api.call('GET', `/accounts/${id}/entries?limit=1`, { token: finance });
    expect(first.body.items).toEqual([expect.objectContaining({ amount: 2 })]);
    const next = await api.call('GET', `/accounts/${id}/entries?limit=1&cursor=${first.body.nextCursor}`, {
      token: finance,
    });
    expect([next.status, next.body.items]).toEqual([200, [expect.objectContaining({ amount: 1 })]]);
  });

  it('an unknown query parameter is 400 naming it', async () => {
    const id = await openAccount();
    const answer = await api.call('GET', `/accounts/${id}/entries?limit=5&order=asc`, { token: finance });
    expect([answer.status, answer.body.code, answer.body.detail]).toEqual([
      400,
      'MALFORMED_REQUEST',
      'Bad query parameter: order.',
    ]);
  });
});

describe('accounts: bad input changes nothing', () => {
  it.each([
    { name: 'amount 0', amount: 0, status: 422 },
    { name: 'a negative amount', amount: -5, status: 422 },
    { name: 'a fractional amount', amount: 1.5, status: 422 },
    { name: 'an amount over 1e12', amount: 1_000_000_000_001, status: 422 },
    { name: 'a string amount', amount: '100', status: 422 },
  ])('$name → $status', async ({ amount, status }) => {
    const id = await openAccount();
    const before = await tableSnapshot();
    const answer = await deposit(id, amount as number, `bad-${id}`);
    expect([answer.status, answer.body.code]).toEqual([status, 'VALIDATION_FAILED']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a missing key, an unknown account, a wrong role, a self-transfer and mixed currencies', async () => {
    const eur = await openAccount('EUR');
    const usd = await openAccount('USD');
    const sales = await api.tokenFor('sal', 'sales');
    const before = await tableSnapshot();
    const noKey = await api.call('POST', `/accounts/${eur}/deposits`, {
      token: finance,
      body: { amount: 5 },
    });
    const unknown = await deposit('EUR-AAAAAAAAAAAAAAAAAAAAAA', 5, 'unknown-acc');
    const malformedId = await deposit('nope', 5, 'unknown-acc-2');
    const wrongRole = await api.call('POST', `/accounts/${eur}/deposits`, {
      token: sales,
      headers: { 'idempotency-key': 'role' },
      body: { amount: 5 },
    });
    const self = await money('/transfers', 'self', { from: eur, to: eur, amount: 5 });
    const mixed = await money('/transfers', 'mixed', { from: eur, to: usd, amount: 5 });
    const badCurrency = await api.call('POST', '/accounts', {
      token: finance,
      body: { name: 'x', currency: 'EURO' },
    });
    expect(
      [noKey, unknown, malformedId, wrongRole, self, mixed, badCurrency].map((answer) => [
        answer.status,
        answer.body.code,
      ]),
    ).toEqual([
      [400, 'IDEMPOTENCY_KEY_REQUIRED'],
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
      [403, 'FORBIDDEN'],
      [422, 'VALIDATION_FAILED'],
      [422, 'VALIDATION_FAILED'],
      [422, 'VALIDATION_FAILED'],
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });
});
