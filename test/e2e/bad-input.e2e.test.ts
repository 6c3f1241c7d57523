import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, newSigningSecret } from '../../lib/local/tokens';
import { type CallOptions, useApi } from '../support/api';
import { tableSnapshot } from '../support/table';

const api = useApi();
let alice = '';
let seller = '';
let id = '';

beforeAll(async () => {
  alice = await api.tokenFor('alice');
  seller = await api.tokenFor('sally', 'sales');
  const created = await api.call('POST', '/annotations', {
    token: alice,
    body: { name: 'original', tags: ['t'] },
  });
  id = created.body.id;
});

const forged = (claims: { exp?: number; aud?: string }, secret: Uint8Array) =>
  new SignJWT({ groups: ['sales'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mallory')
    .setIssuer(LOCAL_ISSUER)
    .setAudience(claims.aud ?? LOCAL_AUDIENCE)
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(secret);

interface Case {
  name: string;
  method: string;
  path: () => string;
  options: () => Promise<CallOptions>;
  status: number;
  code: string;
}

const token = async (): Promise<CallOptions> => ({ token: alice });
const cases: Case[] = [
  {
    name: 'body that is not JSON',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({
      token: alice,
      rawBody: '{"name": ',
      headers: { 'content-type': 'application/json' },
    }),
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'a body nested 5000 levels deep, with an Idempotency-Key',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({
      token: alice,
      rawBody: `{"name":"deep","tags":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'deep-body' },
    }),
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'JSON of the wrong shape',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({ token: alice, body: ['name'] }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown field',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({ token: alice, body: { name: 'x', colour: 'red' } }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a name over 200 characters',
    method: 'PUT',
    path: () => `/annotations/${id}`,
    options: async () => ({ token: alice, headers: { 'if-match': '"1"' }, body: { name: 'n'.repeat(201) } }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a 300 KiB body',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({ token: alice, body: { name: 'big', description: 'd'.repeat(300 * 1024) } }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a body that is not application/json',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({ token: alice, rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'merge-patch+json on a PUT',
    method: 'PUT',
    path: () => `/annotations/${id}`,
    options: async () => ({
      token: alice,
      body: { name: 'x', version: 1 },
      headers: { 'content-type': 'application/merge-patch+json' },
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'merge-patch+json on a PATCH other than an annotation’s',
    method: 'PATCH',
    path: () => '/orders/no-such-order',
    options: async () => ({
      token: seller,
      body: { notes: 'x', version: 1 },
      headers: { 'content-type': 'application/merge-patch+json' },
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'no token',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({ body: { name: 'x' } }),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'an expired token',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({
      token: await forged({ exp: Math.floor(Date.now() / 1000) - 60 }, api.secret),
      body: { name: 'x' },
    }),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a token signed with another key',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({ token: await forged({}, newSigningSecret()), body: { name: 'x' } }),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a token for another audience',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({ token: await forged({ aud: 'someone-else' }, api.secret), body: { name: 'x' } }),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a change without a precondition',
    method: 'PUT',
    path: () => `/annotations/${id}`,
    options: async () => ({ token: alice, body: { name: 'x' } }),
    status: 428,
    code: 'PRECONDITION_REQUIRED',
  },
  {
    name: 'a delete without a precondition',
    method: 'DELETE',
    path: () => `/annotations/${id}`,
    options: token,
    status: 428,
    code: 'PRECONDITION_REQUIRED',
  },
  {
    name: 'If-Match and body version disagreeing',
    method: 'PUT',
    path: () => `/annotations/${id}`,
    options: async () => ({ token: alice, headers: { 'if-match': '"1"' }, body: { name: 'x', version: 2 } }),
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'a malformed If-Match',
    method: 'PATCH',
    path: () => `/annotations/${id}`,
    options: async () => ({ token: alice, headers: { 'if-match': 'version one' }, body: { name: 'x' } }),
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'a malformed Idempotency-Key',
    method: 'POST',
    path: () => '/annotations',
    options: async () => ({
      token: alice,
      headers: { 'idempotency-key': 'é'.repeat(3) },
      body: { name: 'x' },
    }),
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'an unknown route',
    method: 'POST',
    path: () => '/annotation',
    options: async () => ({ token: alice, body: { name: 'x' } }),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'an id no record can have (too long)',
    method: 'PUT',
    path: () => `/annotations/${'x'.repeat(3000)}`,
    options: async () => ({ token: alice, headers: { 'if-match': '"1"' }, body: { name: 'x' } }),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'an id with characters no id has',
    method: 'GET',
    path: () => '/annotations/a%20b%2Fc',
    options: token,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a path that is not valid percent-encoding',
    method: 'GET',
    path: () => '/annotations/%E0%A4%A',
    options: token,
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'a malformed cursor',
    method: 'GET',
    path: () => '/annotations?cursor=not-a-cursor',
    options: token,
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'a limit out of range',
    method: 'GET',
    path: () => '/annotations?limit=101',
    options: token,
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'an unknown query parameter',
    method: 'GET',
    path: () => '/annotations?foo=1',
    options: token,
    status: 400,
    code: 'MALFORMED_REQUEST',
  },
  {
    name: 'a DELETE body that is not an object',
    method: 'DELETE',
    path: () => `/annotations/${id}`,
    options: async () => ({ token: alice, body: [1] }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a patch that removes the required name',
    method: 'PATCH',
    path: () => `/annotations/${id}`,
    options: async () => ({ token: alice, headers: { 'if-match': '"1"' }, body: { name: null } }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a batch with a duplicate id',
    method: 'POST',
    path: () => '/annotations/batch',
    options: async () => ({
      token: alice,
      body: {
        updates: [
          { id, version: 1, set: { name: 'a' } },
          { id, version: 1, set: { name: 'b' } },
        ],
      },
    }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a batch of 101 updates',
    method: 'POST',
    path: () => '/annotations/batch',
    options: async () => ({
      token: alice,
      body: {
        updates: Array.from({ length: 101 }, (_, n) => ({ id: `id-${n}`, version: 1, set: { name: 'a' } })),
      },
    }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
];

describe('bad input gets its 4xx and changes nothing', () => {
  it.each(cases)('$name → $status $code', async ({ method, path, options, status, code }) => {
    const before = await tableSnapshot();
    const answer = await api.call(method, path(), await options());
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status, code, type: expect.stringMatching(/^https:\/\//) });
    expect(typeof answer.body.requestId).toBe('string');
    expect(await tableSnapshot()).toEqual(before);
  });

  it('points validation errors at the offending fields', async () => {
    const answer = await api.call('POST', '/annotations', {
      token: alice,
      body: { name: '', tags: ['ok', 'x'.repeat(51)], colour: 'red' },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.errors.map((error: { pointer: string }) => error.pointer).sort()).toEqual([
      '/colour',
      '/name',
      '/tags/1',
    ]);
  });
});

describe('bad query parameters are named', () => {
  it.each([
    { path: '/annotations?foo=1', detail: 'Bad query parameter: foo.' },
    { path: '/orders?limit=5&sort=asc', detail: 'Bad query parameter: sort.' },
    { path: '/annotations?limit=0', detail: 'Bad query parameter: limit.' },
  ])('GET $path → 400 "$detail"', async ({ path, detail }) => {
    const answer = await api.call('GET', path, { token: alice });
    expect([answer.status, answer.body.code, answer.body.detail]).toEqual([400, 'MALFORMED_REQUEST', detail]);
  });
});

describe('DELETE of an order line takes its precondition from the body too', () => {
  let sales = '';
  beforeAll(async () => {
    sales = await api.tokenFor('sam', 'sales');
  });

  const createOrder = async () => {
    const created = await api.call('POST', '/orders', {
      token: sales,
      body: {
        customer: 'ACME',
        lines: [
          { sku: 'A', quantity: 1, unitPrice: 100 },
          { sku: 'B', quantity: 2, unitPrice: 50 },
        ],
      },
    });
    expect(created.status).toBe(201);
    return created.body as { id: string; lines: { lineId: string }[] };
  };
  const lineIds = async (orderId: string) =>
    (await api.call('GET', `/orders/${orderId}`, { token: sales })).body.lines.map(
      (line: { lineId: string }) => line.lineId,
    );

  it('a current body version removes the line: 200 with the new version', async () => {
    const order = await createOrder();
    const [first, second] = order.lines.map((line) => line.lineId);
    const answer = await api.call('DELETE', `/orders/${order.id}/lines/${first}`, {
      token: sales,
      body: { version: 1 },
    });
    expect([answer.status, answer.body]).toEqual([200, { orderId: order.id, version: 2 }]);
    expect(answer.headers.get('etag')).toBe('"2"');
    expect(await lineIds(order.id)).toEqual([second]);
  });

  it('a stale body version is 409 STALE_DATA with the order as current, nothing removed', async () => {
    const order = await createOrder();
    await api.call('PATCH', `/orders/${order.id}`, { token: sales, body: { version: 1, notes: 'moved on' } });
    const before = await tableSnapshot();
    const answer = await api.call('DELETE', `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
      token: sales,
      body: { version: 1 },
    });
    expect([answer.status, answer.body.code]).toEqual([409, 'STALE_DATA']);
    expect(answer.body.current).toMatchObject({ id: order.id, notes: 'moved on', version: 2 });
    expect(answer.body.current.lines).toHaveLength(2);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('If-Match and a body version that disagree are 400, nothing removed', async () => {
    const order = await createOrder();
    const before = await tableSnapshot();
    const answer = await api.call('DELETE', `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
      token: sales,
      headers: { 'if-match': '"1"' },
      body: { version: 3 },
    });
    expect([answer.status, answer.body.code]).toEqual([400, 'MALFORMED_REQUEST']);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a stale If-Match without a body is still 412, nothing removed', async () => {
    const order = await createOrder();
    await api.call('PATCH', `/orders/${order.id}`, { token: sales, body: { version: 1, notes: 'moved on' } });
    const before = await tableSnapshot();
    const answer = await api.call('DELETE', `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
      token: sales,
      headers: { 'if-match': '"1"' },
    });
    expect([answer.status, answer.body.code, answer.body.current.version]).toEqual([412, 'STALE_DATA', 2]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('neither header nor body version is 428, nothing removed', async () => {
    const order = await createOrder();
    const before = await tableSnapshot();
    const answer = await api.call('DELETE', `/orders/${order.id}/lines/${order.lines[0]?.lineId}`, {
      token: sales,
      body: {},
    });
    expect([answer.status, answer.body.code]).toEqual([428, 'PRECONDITION_REQUIRED']);
    expect(await tableSnapshot()).toEqual(before);
  });
});

describe('inputs that once got a 500, a stolen role or a bare status', () => {
  it('a debtor country that is not two capital letters is 422 at /country, and nothing is stored', async () => {
    const relations = await api.tokenFor('rita', 'customer-relations');
    const before = await tableSnapshot();
    for (const country of ['', 'DEU', 'Norway', 'de', 'ZZ', 'EU']) {
      const answer = await api.call('POST', '/debtors', {
        token: relations,
        body: { name: 'ACME', country },
      });
      expect([answer.status, answer.body.code, answer.body.errors[0].pointer]).toEqual([
        422,
        'VALIDATION_FAILED',
        '/country',
      ]);
    }
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a field-group PATCH naming toString or constructor in base or set is a 4xx, never a 500', async () => {
    const relations = await api.tokenFor('rita', 'customer-relations');
    const created = await api.call('POST', '/debtors', { token: relations, body: { name: 'Proto' } });
    const before = await tableSnapshot();
    for (const body of [
      { base: { toString: 'x' }, set: { name: 'n' } },
      { base: { name: 'Proto' }, set: { constructor: 1 } },
    ]) {
      const answer = await api.call('PATCH', `/debtors/${created.body.id}`, { token: relations, body });
      expect([answer.status, answer.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    }
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a role is granted only by a whole group name', async () => {
    for (const groups of [['x,supervisor'], ['readonly,finance'], ['supervisor ']]) {
      const token = await api.tokens.sign({ sub: 'mallory', groups });
      const answer = await api.call('POST', '/accounts', { token, body: { name: 'n', currency: 'EUR' } });
      expect([answer.status, answer.body.code]).toEqual([403, 'FORBIDDEN']);
    }
  });

  it('an empty groups claim does not hide cognito:groups', async () => {
    const token = await new SignJWT({ groups: [], 'cognito:groups': ['finance'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('fiona')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(api.secret);
    const answer = await api.call('POST', '/accounts', { token, body: { name: 'n', currency: 'EUR' } });
    expect(answer.status).toBe(201);
  });

  it('a body that is not UTF-8 is 400, not silently repaired', async () => {
    const before = await tableSnapshot();
    const response = await fetch(`${api.url}/annotations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    });
    const body = (await response.json()) as { code: string; detail: string };
    expect([response.status, body.code, body.detail]).toEqual([
      400,
      'MALFORMED_REQUEST',
      'The body is not valid UTF-8.',
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a bearer token of 20 KB is 401 problem+json; headers past 64 KiB are 400 problem+json', async () => {
    const long = await api.call('GET', `/annotations/${id}`, { token: 'x'.repeat(20_000) });
    expect([long.status, long.headers.get('content-type'), long.body.code]).toEqual([
      401,
      'application/problem+json',
      'UNAUTHENTICATED',
    ]);
    const huge = await api.call('GET', `/annotations/${id}`, { token: 'x'.repeat(70_000) });
    expect([huge.status, huge.headers.get('content-type'), huge.body.code]).toEqual([
      400,
      'application/problem+json',
      'MALFORMED_REQUEST',
    ]);
  });

  it('a malformed Idempotency-Key on every lock route is 400, and the lock is untouched', async () => {
    const created = await api.call('POST', '/annotations', { token: alice, body: { name: 'locked' } });
    const path = `/annotations/${created.body.id}/lock`;
    const lease = await api.call('POST', path, { token: alice, body: {} });
    const before = await tableSnapshot();
    const bad = { 'idempotency-key': 'tab\there' };
    const answers = [
      await api.call('POST', path, { token: alice, headers: bad, body: {} }),
      await api.call('PUT', path, {
        token: alice,
        headers: { ...bad, 'lock-token': lease.body.token },
        body: {},
      }),
      await api.call('DELETE', path, { token: alice, headers: { ...bad, 'lock-token': lease.body.token } }),
    ];
    expect(answers.map((answer) => [answer.status, answer.body.code])).toEqual([
      [400, 'MALFORMED_REQUEST'],
      [400, 'MALFORMED_REQUEST'],
      [400, 'MALFORMED_REQUEST'],
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });
});
