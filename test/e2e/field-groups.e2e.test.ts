import { beforeAll, describe, expect, it } from 'vitest';
import { useApi } from '../support/api';
import { lostAnswerRetriedBySdk, recordRequests, withFault } from '../support/sdk';
import { tableSnapshot } from '../support/table';

const api = useApi();
let relations = '';
let relations2 = '';
let finance = '';
let purchasing = '';
let warehouse = '';

beforeAll(async () => {
  relations = await api.tokenFor('rita', 'customer-relations');
  relations2 = await api.tokenFor('rob', 'customer-relations');
  finance = await api.tokenFor('fred', 'finance');
  purchasing = await api.tokenFor('pia', 'purchasing');
  warehouse = await api.tokenFor('walt', 'warehouse');
});

const address = { street: 'Main St 1', city: 'Berlin', postalCode: '10115', country: 'DE' };
const credit = { creditLimit: 1000, paymentTermsDays: 30 };

const createDebtor = async () => {
  const created = await api.call('POST', '/debtors', {
    token: relations,
    body: { name: 'ACME', ...address, ...credit },
  });
  expect(created.status).toBe(201);
  return created.body as { id: string; version: number };
};

const patch = (token: string, id: string, base: Record<string, unknown>, set: Record<string, unknown>) =>
  api.call('PATCH', `/debtors/${id}`, { token, body: { base, set } });

describe('debtors: field groups with owners', () => {
  it('a keyed PATCH repeated answers as applied once; the key with another body is 422', async () => {
    const { id } = await createDebtor();
    const request = (set: Record<string, unknown>) =>
      api.call('PATCH', `/debtors/${id}`, {
        token: finance,
        headers: { 'idempotency-key': 'credit-raise-1' },
        body: { base: credit, set },
      });
    const first = await request({ creditLimit: 6000 });
    const repeat = await request({ creditLimit: 6000 });
    expect([first.status, first.body.record.version, repeat.status, repeat.body.record.version]).toEqual([
      200, 2, 200, 2,
    ]);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.body.groups).toEqual({ credit: 'applied' });
    const before = await tableSnapshot();
    const reused = await request({ creditLimit: 7000 });
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a group write the SDK retries after its answer was lost is applied once: version +1', async () => {
    const { id } = await createDebtor();
    const { result, injected } = await withFault(lostAnswerRetriedBySdk('UpdateItemCommand'), () =>
      patch(finance, id, credit, { creditLimit: 2500 }),
    );
    expect([injected, result.status, result.body.record.version, result.body.record.creditLimit]).toEqual([
      1, 200, 2, 2500,
    ]);
    const stored = await api.call('GET', `/debtors/${id}`, { token: finance });
    expect(stored.body.version).toBe(2);
  });

  it('address and credit limit changed at once from the same read: both 200, both stored', async () => {
    const { id } = await createDebtor();
    const [byRelations, byFinance] = await Promise.all([
      patch(relations, id, address, { city: 'Hamburg', postalCode: '20095' }),
      patch(finance, id, credit, { creditLimit: 5000 }),
    ]);
    expect([byRelations.status, byFinance.status]).toEqual([200, 200]);
    expect(byRelations.body.groups).toEqual({ address: 'applied' });
    expect(byFinance.body.groups).toEqual({ credit: 'applied' });
    const stored = (await api.call('GET', `/debtors/${id}`, { token: finance })).body;
    expect(stored).toMatchObject({ city: 'Hamburg', postalCode: '20095', creditLimit: 5000, version: 3 });
  });

  it('two users change the address differently from the same read: one applied, one PARTIAL_CONFLICT', async () => {
    const { id } = await createDebtor();
    const answers = await Promise.all([
      patch(relations, id, address, { street: 'Side St 2' }),
      patch(relations2, id, address, { street: 'Other St 3' }),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const winner = answers.find((answer) => answer.status === 200);
    const loser = answers.find((answer) => answer.status === 409);
    expect(loser?.body.code).toBe('PARTIAL_CONFLICT');
    expect(loser?.body.groups).toEqual({
      address: { status: 'conflict', current: { ...address, street: winner?.body.record.street } },
    });
    expect(loser?.body.record).toEqual(winner?.body.record);

    // A third request from the first read: address is stale, credit is not.
    const third = await patch(
      finance,
      id,
      { ...address, ...credit },
      { street: 'Third St 4', creditLimit: 7000 },
    );
    expect(third.status).toBe(403);
    const mixed = await api.call('PATCH', `/debtors/${id}`, {
      token: await api.tokenFor('both', 'customer-relations', 'finance'),
      body: { base: { ...address, ...credit }, set: { street: 'Third St 4', creditLimit: 7000 } },
    });
    expect(mixed.status).toBe(409);
    expect(mixed.body.groups.credit).toEqual({ status: 'applied' });
    expect(mixed.body.groups.address.status).toBe('conflict');
    const stored = (await api.call('GET', `/debtors/${id}`, { token: finance })).body;
    expect(stored).toMatchObject({ street: winner?.body.record.street, creditLimit: 7000, version: 3 });
  });

  it('two users make the same change: both 200, one applied, the other unchanged, one version', async () => {
    const { id } = await createDebtor();
    const answers = await Promise.all([
      patch(relations, id, address, { city: 'Munich', postalCode: '80331' }),
      patch(relations2, id, address, { city: 'Munich', postalCode: '80331' }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers.map((answer) => answer.body.groups.address).sort()).toEqual(['applied', 'unchanged']);
    expect((await api.call('GET', `/debtors/${id}`, { token: finance })).body).toMatchObject({
      city: 'Munich',
      version: 2,
    });
  });

  it('a stale base whose group already holds the new values is unchanged: nothing written, no version', async () => {
    const { id } = await createDebtor();
    expect((await patch(relations, id, address, { city: 'Munich' })).status).toBe(200);
    const before = await tableSnapshot();
    // Rob read the debtor before Rita's change and makes the very same one.
    const late = await patch(relations2, id, address, { city: 'Munich' });
    expect([late.status, late.body.groups, late.body.record.version, late.body.record.updatedBy]).toEqual([
      200,
      { address: 'unchanged' },
      2,
      'rita',
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a group whose set equals its base is unchanged and not written', async () => {
    const { id } = await createDebtor();
    const { result, commands } = await recordRequests(() =>
      patch(relations, id, { name: 'ACME', ...address }, { name: 'ACME', city: 'Cologne' }),
    );
    expect(result.status).toBe(200);
    expect(result.body.groups).toEqual({ profile: 'unchanged', address: 'applied' });
    expect(commands).toEqual(['UpdateItemCommand']);
    expect(result.headers.get('etag')).toBe('"2"');
  });

  it('bad patches get 403 or 422 and change nothing', async () => {
    const { id } = await createDebtor();
    const before = await tableSnapshot();
    const financeOnAddress = await patch(finance, id, address, { city: 'Paris' });
    const balance = await patch(finance, id, { balance: 0 }, { balance: 100 });
    const missingBase = await patch(relations, id, { street: address.street }, { street: 'New St' });
    const unknown = await patch(relations, id, { colour: 'red' }, { colour: 'blue' });
    const badValue = await patch(finance, id, credit, { paymentTermsDays: 400 });
    const badCountry = await patch(relations, id, address, { country: 'XX' });
    const removeName = await patch(relations, id, { name: 'ACME' }, { name: null });
    expect(
      [financeOnAddress, balance, missingBase, unknown, badValue, badCountry, removeName].map((a) => [
        a.status,
        a.body.code,
      ]),
    ).toEqual([
      [403, 'FORBIDDEN'],
      [422, 'VALIDATION_FAILED'],
      [422, 'VALIDATION_FAILED'],
      [422, 'VALIDATION_FAILED'],
      [422, 'VALIDATION_FAILED'],
      [422, 'VALIDATION_FAILED'],
      [422, 'VALIDATION_FAILED'],
    ]);
    expect(balance.body.errors).toEqual([{ pointer: '/set/balance', detail: 'This field is read-only.' }]);
    expect(missingBase.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/base/city',
      '/base/postalCode',
      '/base/country',
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });

  /** `{"deeper":{"deeper":…1…}}`, `depth` objects deep, built as text: any depth, no recursion. */
  const nested = (depth: number): string => `${'{"deeper":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const creditPatch = (base: string, set: string) => `{"base":{${base}},"set":{${set}}}`;

  it.each([
    {
      name: 'an infinite creditLimit (1e400) in base',
      body: creditPatch('"creditLimit":1e400,"paymentTermsDays":30', '"creditLimit":1'),
      pointer: '/base/creditLimit',
    },
    {
      name: 'creditLimit 1e200 in base',
      body: creditPatch('"creditLimit":1e200,"paymentTermsDays":30', '"creditLimit":1'),
      pointer: '/base/creditLimit',
    },
    {
      name: 'a 50-digit creditLimit in base',
      body: creditPatch(
        '"creditLimit":12345678901234567890123456789012345678901234567890,"paymentTermsDays":30',
        '"creditLimit":1',
      ),
      pointer: '/base/creditLimit',
    },
    {
      name: 'creditLimit MAX_SAFE_INTEGER + 2 in base',
      body: creditPatch('"creditLimit":9007199254740993,"paymentTermsDays":30', '"creditLimit":1'),
      pointer: '/base/creditLimit',
    },
    {
      name: 'an object nested 40 deep as creditLimit in base',
      body: creditPatch(`"creditLimit":${nested(40)},"paymentTermsDays":30`, '"creditLimit":1'),
      pointer: '/base/creditLimit',
    },
    {
      name: 'paymentTermsDays 1e400 in base',
      body: creditPatch('"creditLimit":1000,"paymentTermsDays":1e400', '"creditLimit":1'),
      pointer: '/base/paymentTermsDays',
    },
    {
      name: 'a number as name in base of an untouched group',
      body: creditPatch('"name":1e400,"creditLimit":1000,"paymentTermsDays":30', '"creditLimit":1'),
      pointer: '/base/name',
    },
    {
      name: 'creditLimit MAX_SAFE_INTEGER + 2 in set',
      body: creditPatch('"creditLimit":1000,"paymentTermsDays":30', '"creditLimit":9007199254740993'),
      pointer: '/set/creditLimit',
    },
    {
      name: 'an infinite creditLimit (1e400) in set',
      body: creditPatch('"creditLimit":1000,"paymentTermsDays":30', '"creditLimit":1e400'),
      pointer: '/set/creditLimit',
    },
    {
      name: 'an object nested 40 deep as paymentTermsDays in set',
      body: creditPatch('"creditLimit":1000,"paymentTermsDays":30', `"paymentTermsDays":${nested(40)}`),
      pointer: '/set/paymentTermsDays',
    },
  ])('a debtor PATCH with $name → 422 at $pointer, nothing written', async ({ body, pointer }) => {
    const { id } = await createDebtor();
    const before = await tableSnapshot();
    const answer = await api.call('PATCH', `/debtors/${id}`, {
      token: finance,
      rawBody: body,
      headers: { 'content-type': 'application/json' },
    });
    expect([answer.status, answer.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    // An unsafe integer breaks two rules (safe range, money range): both point at the field.
    expect([...new Set(answer.body.errors.map((error: { pointer: string }) => error.pointer))]).toEqual([
      pointer,
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('base takes null for an absent field and ignores fields outside the groups', async () => {
    const created = await api.call('POST', '/debtors', { token: relations, body: { name: 'Lone' } });
    const { id } = created.body as { id: string };
    const answer = await patch(
      finance,
      id,
      { creditLimit: null, paymentTermsDays: null, balance: 1e300, id, version: 1 },
      { creditLimit: 100 },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.groups).toEqual({ credit: 'applied' });
    expect(answer.body.record).toMatchObject({ creditLimit: 100, balance: 0, version: 2 });
    expect(answer.body.record).not.toHaveProperty('paymentTermsDays');
  });

  it('a body nested over 64 levels is 400 MALFORMED_REQUEST, with an Idempotency-Key too; 64 levels are read', async () => {
    const created = await api.call('POST', '/debtors', { token: relations, body: { name: 'Deep' } });
    const { id } = created.body as { id: string };
    // The body, then base, then base.note: `note` nested n deep makes the body n + 2 deep.
    const body = (noteDepth: number) =>
      `{"base":{"note":${nested(noteDepth)},"creditLimit":null,"paymentTermsDays":null},"set":{"creditLimit":100}}`;
    const json = { 'content-type': 'application/json' };
    const before = await tableSnapshot();
    const tooDeep = await api.call('PATCH', `/debtors/${id}`, {
      token: finance,
      headers: json,
      rawBody: body(63),
    });
    const farTooDeep = await api.call('PATCH', `/debtors/${id}`, {
      token: finance,
      headers: { ...json, 'idempotency-key': `deep-${id}` },
      rawBody: body(10_000),
    });
    expect([tooDeep.status, tooDeep.body.code, tooDeep.body.detail]).toEqual([
      400,
      'MALFORMED_REQUEST',
      'The body nests objects and arrays deeper than 64 levels.',
    ]);
    expect([farTooDeep.status, farTooDeep.body.code]).toEqual([400, 'MALFORMED_REQUEST']);
    expect(await tableSnapshot()).toEqual(before);
    const deepest = await api.call('PATCH', `/debtors/${id}`, {
      token: finance,
      headers: { ...json, 'idempotency-key': `deepest-${id}` },
      rawBody: body(62),
    });
    expect([deepest.status, deepest.body.groups]).toEqual([200, { credit: 'applied' }]);
  });

  it('100 concurrent postings interleaved with 50 group PATCHes: no PATCH conflicts, the balance is exact', async () => {
    const { id } = await createDebtor();
    const amounts = Array.from({ length: 100 }, (_, n) => (n % 3 === 0 ? -(n + 1) * 7 : (n + 1) * 11));
    const postings = amounts.map((amount, n) =>
      api.call('POST', `/debtors/${id}/postings`, {
        token: finance,
        headers: { 'idempotency-key': `post-${id}-${n}` },
        body: { amount, reference: `inv-${n}` },
      }),
    );
    const patches = Array.from({ length: 50 }, (_, n) =>
      n % 2 === 0
        ? patch(relations, id, address, { street: 'Moved St 9' })
        : patch(finance, id, credit, { creditLimit: 2500 }),
    );
    const [postingAnswers, patchAnswers] = await Promise.all([Promise.all(postings), Promise.all(patches)]);
    expect(postingAnswers.map((answer) => answer.status)).toEqual(Array(100).fill(201));
    expect(patchAnswers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    const stored = (await api.call('GET', `/debtors/${id}`, { token: finance })).body;
    expect(stored.balance).toBe(amounts.reduce((sum, amount) => sum + amount, 0));
    expect(stored).toMatchObject({ street: 'Moved St 9', creditLimit: 2500 });
    // The same change 25 times per group: written once, then found there (`unchanged`).
    const outcomes = patchAnswers.map((answer) => Object.values(answer.body.groups)[0]);
    expect(outcomes.filter((outcome) => outcome === 'applied')).toHaveLength(2);
    expect(stored.version).toBe(1 + 100 + 2);
  });
});

describe('articles: SKU keys and stock that never goes below zero', () => {
  const createArticle = async (id: string) => {
    const created = await api.call('POST', '/articles', {
      token: purchasing,
      body: { id, description: 'Bolt M6' },
    });
    expect(created.status).toBe(201);
    return created.body;
  };
  const move = (id: string, delta: number, key: string, token = warehouse) =>
    api.call('POST', `/articles/${id}/stock-movements`, {
      token,
      headers: { 'idempotency-key': key },
      body: { delta, reason: 'count' },
    });

  it('a taken SKU is 409 ALREADY_EXISTS', async () => {
    await createArticle('BOLT-M6');
    const again = await api.call('POST', '/articles', {
      token: purchasing,
      body: { id: 'BOLT-M6', description: 'x' },
    });
    expect([again.status, again.body.code]).toEqual([409, 'ALREADY_EXISTS']);
  });

  it('groups of four departments: sales price by sales, bin by warehouse, at once', async () => {
    await createArticle('NUT-M6');
    const sales = await api.tokenFor('sal', 'sales');
    const [price, bin] = await Promise.all([
      api.call('PATCH', '/articles/NUT-M6', {
        token: sales,
        body: { base: { salesPrice: null, vatCode: null }, set: { salesPrice: 120, vatCode: 'S' } },
      }),
      api.call('PATCH', '/articles/NUT-M6', {
        token: warehouse,
        body: {
          base: { binLocation: null, reorderLevel: null },
          set: { binLocation: 'A-01', reorderLevel: 10 },
        },
      }),
    ]);
    expect([price.status, bin.status]).toEqual([200, 200]);
    const inStock = await api.call('PATCH', '/articles/NUT-M6', {
      token: warehouse,
      body: { base: { inStock: 0 }, set: { inStock: 5 } },
    });
    expect(inStock.status).toBe(422);
  });

  it('an article PATCH with an infinite salesPrice in base → 422 at /base/salesPrice, nothing written', async () => {
    await createArticle('CLIP-M6');
    const sales = await api.tokenFor('sal', 'sales');
    const before = await tableSnapshot();
    const answer = await api.call('PATCH', '/articles/CLIP-M6', {
      token: sales,
      rawBody: '{"base":{"salesPrice":1e400,"vatCode":null},"set":{"salesPrice":1}}',
      headers: { 'content-type': 'application/json' },
    });
    expect([answer.status, answer.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(answer.body.errors).toEqual([
      { pointer: '/base/salesPrice', detail: 'Expected number, received Infinity.' },
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('200 concurrent movements of +1 and −1 against a stock of 50: never below zero, exact, every refusal INSUFFICIENT_STOCK', async () => {
    await createArticle('WASHER-M6');
    expect((await move('WASHER-M6', 50, 'initial-50')).status).toBe(201);
    const deltas = Array.from({ length: 200 }, (_, n) => (n % 4 === 0 ? 1 : -1));
    const users = await Promise.all(Array.from({ length: 10 }, (_, n) => api.tokenFor(`w${n}`, 'warehouse')));
    const answers = await Promise.all(
      deltas.map((delta, n) => move('WASHER-M6', delta, `washer-${n}`, users[n % users.length])),
    );
    const accepted = answers.flatMap((answer, n) => (answer.status === 201 ? [deltas[n] as number] : []));
    const refused = answers.filter((answer) => answer.status !== 201);
    expect(
      refused.every((answer) => answer.status === 409 && answer.body.code === 'INSUFFICIENT_STOCK'),
    ).toBe(true);
    expect(refused.length).toBeGreaterThan(0);
    expect(
      answers.filter((answer) => answer.status === 201).every((answer) => answer.body.inStock >= 0),
    ).toBe(true);
    const stored = (await api.call('GET', '/articles/WASHER-M6', { token: warehouse })).body;
    expect(stored.inStock).toBe(50 + accepted.reduce((sum, delta) => sum + delta, 0));
    expect(stored.inStock).toBeGreaterThanOrEqual(0);
  });

  it('a replayed key applies once, sent again in sequence or at once', async () => {
    await createArticle('SCREW-M6');
    const first = await move('SCREW-M6', 7, 'screw-once');
    const again = await move('SCREW-M6', 7, 'screw-once');
    const together = await Promise.all(
      Array.from({ length: 10 }, () => move('SCREW-M6', 3, 'screw-together')),
    );
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(together.map((answer) => answer.status)).toEqual(Array(10).fill(201));
    expect(together.filter((answer) => answer.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    const reused = await move('SCREW-M6', 8, 'screw-once');
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    const stored = (await api.call('GET', '/articles/SCREW-M6', { token: warehouse })).body;
    expect(stored.inStock).toBe(10);
  });

  it('a movement without Idempotency-Key is 400 and changes nothing', async () => {
    await createArticle('PIN-M6');
    const before = await tableSnapshot();
    const answer = await api.call('POST', '/articles/PIN-M6/stock-movements', {
      token: warehouse,
      body: { delta: 1, reason: 'x' },
    });
    expect([answer.status, answer.body.code]).toEqual([400, 'IDEMPOTENCY_KEY_REQUIRED']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('round trips: a movement is one transaction, one consistent read and the answer kept; one write per PATCHed group', async () => {
    await createArticle('RIVET-M6');
    const movement = await recordRequests(() => move('RIVET-M6', 5, 'rivet-1'));
    expect([movement.result.status, movement.commands]).toEqual([
      201,
      ['TransactWriteItemsCommand', 'GetItemCommand', 'UpdateItemCommand'],
    ]);
    const sales = await api.tokenFor('sal', 'sales', 'purchasing', 'warehouse');
    const groups = await recordRequests(() =>
      api.call('PATCH', '/articles/RIVET-M6', {
        token: sales,
        body: {
          base: {
            description: 'Bolt M6',
            salesPrice: null,
            vatCode: null,
            binLocation: null,
            reorderLevel: null,
          },
          set: { description: 'Rivet M6', salesPrice: 5, binLocation: 'B-2' },
        },
      }),
    );
    expect(groups.result.status).toBe(200);
    expect(groups.commands).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
    expect(groups.result.body.record.version).toBe(5);
  });
});
