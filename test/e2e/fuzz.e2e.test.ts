import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/contract/openapi';
import { roles } from '../../lib/domain/roles';
import { type CallResult, useApi } from '../support/api';
import { mutatedOf, validValueOf } from '../support/arbitraries';
import { tableSnapshot } from '../support/table';

/**
 * Property-based fuzzing of every route from the OpenAPI document: bodies valid by the
 * document and bodies one mutation away (or any JSON), real and made-up path ids, query
 * parameters, preconditions, keys and tokens. Every answer also goes through the contract
 * check of `useApi` (status declared, body of its schema, promised headers). Seeded and
 * bounded here; `npm run fuzz` runs FUZZ_RUNS of them (20,000 by default).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

const api = useApi();
type Schema = Record<string, unknown>;
interface DocumentedOperation {
  requestBody?: { content: Record<string, { schema: Schema }> };
  parameters?: { name: string; in: string }[];
}
const document = openApiDocument() as { paths: Record<string, Record<string, DocumentedOperation>> };
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
);

const ids: Record<string, string[]> = {};
let everyone = '';

beforeAll(async () => {
  everyone = await api.tokenFor('fuzzer', ...roles);
  const made = async (path: string, body: unknown) => {
    const answer = await api.call('POST', path, { token: everyone, body });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const annotation = await made('/annotations', { name: 'fuzzed' });
  const order = await made('/orders', {
    customer: 'Fuzz',
    lines: [{ sku: 'F-1', quantity: 1, unitPrice: 1 }],
  });
  const debtor = await made('/debtors', { name: 'Fuzz' });
  await made('/articles', { id: 'FUZZ-1', description: 'Fuzz' });
  const account = await made('/accounts', { name: 'Fuzz', currency: 'EUR' });
  ids.id = [annotation.id, order.id, debtor.id, 'FUZZ-1', account.id, 'nope', 'x'.repeat(129), '%zz'];
  ids.lineId = [order.lines[0].lineId, 'nope'];
});

const pathFor = (template: string) =>
  fc
    .record({
      id: fc.constantFrom(...(ids.id ?? ['x'])),
      lineId: fc.constantFrom(...(ids.lineId ?? ['x'])),
    })
    .map((chosen) => template.replace('{id}', chosen.id).replace('{lineId}', chosen.lineId));

const headersArbitrary = fc.record(
  {
    'if-match': fc.constantFrom('"1"', '"2"', '*', 'W/"1"', '"x"', ''),
    'idempotency-key': fc.oneof(fc.uuid(), fc.constantFrom('', 'tab\there', 'k'.repeat(256))),
    'lock-token': fc.constantFrom('nope', 'bad token!'),
    'if-none-match': fc.constantFrom('"1"', '*', 'W/"1", "2"'),
  },
  { requiredKeys: [] },
);

const tokenArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.constant('everyone') },
  { weight: 1, arbitrary: fc.constantFrom('', 'garbage', 'a.b.c') },
);

const requestArbitrary = fc.constantFrom(...operations).chain(({ method, path, operation }) => {
  const schema = operation.requestBody?.content['application/json']?.schema;
  return fc.record({
    method: fc.constant(method),
    path: fc
      .tuple(
        pathFor(path),
        fc.constantFrom('', '?limit=2', '?limit=0', '?cursor=zz', '?foo=1', '?q=a', '?q='),
      )
      .map(([base, query]) => base + query),
    // fetch sends no body with a GET.
    body: schema
      ? fc.oneof(validValueOf(schema), mutatedOf(schema))
      : method === 'GET'
        ? fc.constant(undefined)
        : fc.constantFrom(undefined, {}, 'x'),
    headers: headersArbitrary,
    token: tokenArbitrary,
  });
});

const send = (request: {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
  token: string;
}): Promise<CallResult> =>
  api.call(request.method, request.path, {
    token: request.token === 'everyone' ? everyone : request.token,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });

describe(`fuzzing every route from the document (${RUNS} runs, seed ${SEED})`, () => {
  it('never a 5xx; every answer within the contract; a 4xx changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (request) => {
        const before = await tableSnapshot();
        const answer = await send(request);
        expect(answer.status, `${request.method} ${request.path}: ${answer.text}`).toBeLessThan(500);
        if (answer.status >= 400) {
          expect(answer.headers.get('content-type')).toBe('application/problem+json');
          expect(await tableSnapshot()).toEqual(before);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });

  it('a body valid by the document is never refused as invalid, where the document says all of it', async () => {
    // Routes whose every rule is in their schema (others also check ICU codes, group
    // ownership or a record's state, which no schema says).
    const complete = ['POST /annotations', 'POST /orders'];
    const arbitrary = fc.constantFrom(...complete).chain((key) => {
      const [method, path] = key.split(' ') as [string, string];
      const schema = document.paths[path]?.[method.toLowerCase()]?.requestBody?.content['application/json']
        ?.schema as Schema;
      return fc.record({ method: fc.constant(method), path: fc.constant(path), body: validValueOf(schema) });
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (request) => {
        const answer = await api.call(request.method, request.path, { token: everyone, body: request.body });
        expect(answer.status, answer.text).toBe(201);
      }),
      { numRuns: Math.max(50, Math.floor(RUNS / 8)), seed: SEED },
    );
  });
});
