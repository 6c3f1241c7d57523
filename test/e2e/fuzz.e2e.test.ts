import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../lib/domain/roles';
import { type CallResult, useApi } from '../support/api';
import { type DocumentedOperation, loadDocument, type OpenApiDocument } from '../support/document';
import {
  type DocumentOperation,
  type DocumentRequest,
  invalidRequestOf,
  operationsOf,
  takesInput,
  validRequestOf,
} from '../support/document-requests';
import { tableSnapshot } from '../support/table';

/**
 * The server held to the OpenAPI document as built (openapi.json), by requests made from that
 * document alone, never from the zod schemas it was made from: for every operation, requests
 * the document allows are never refused for a reason it does not state (a 400, 413, 415 or
 * 422 `VALIDATION_FAILED` must be one of its `x-rules`), requests one change away that it does
 * not allow are always refused, never a 5xx, a 4xx changes nothing stored, and every answer
 * is one the document declares (`useApi`'s contract check). Seeded and bounded here;
 * `npm run fuzz` runs FUZZ_RUNS of each (250 by default: 20,500 requests).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);

const api = useApi();
const { dereferenced: document } = loadDocument();
const operations = operationsOf(document);

const ids: Record<string, string[]> = {};
let everyone = '';

/** The records the requests name: mostly real ones of the path's resource. */
const idsFor = (parameter: string, template: string): string[] =>
  parameter === 'lineId' ? (ids.lineId ?? []) : (ids[template.split('/')[1] ?? ''] ?? []);

beforeAll(async () => {
  everyone = await api.tokenFor('fuzzer', ...roles);
  const made = async (path: string, body: unknown) => {
    const answer = await api.call('POST', path, { token: everyone, body });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const annotations = [
    await made('/annotations', { name: 'one' }),
    await made('/annotations', { name: 'two' }),
  ];
  const order = await made('/orders', {
    customer: 'Fuzz',
    lines: [{ sku: 'F-1', quantity: 1, unitPrice: 1 }],
  });
  const debtor = await made('/debtors', { name: 'Fuzz' });
  await made('/articles', { id: 'FUZZ-1', description: 'Fuzz' });
  const accounts = [
    await made('/accounts', { name: 'Fuzz', currency: 'EUR' }),
    await made('/accounts', { name: 'Fuzz 2', currency: 'EUR' }),
  ];
  ids.annotations = annotations.map((annotation) => annotation.id);
  ids.orders = [order.id];
  ids.debtors = [debtor.id];
  ids.articles = ['FUZZ-1'];
  ids.accounts = accounts.map((account) => account.id);
  ids.lineId = [order.lines[0].lineId];
});

const send = (request: DocumentRequest): Promise<CallResult> => {
  const query = new URLSearchParams(request.query).toString();
  return api.call(request.method, `${request.path}${query ? `?${query}` : ''}`, {
    token: everyone,
    headers: { ...request.headers, ...(request.mediaType ? { 'content-type': request.mediaType } : {}) },
    ...(request.body === undefined ? {} : { rawBody: JSON.stringify(request.body) }),
  });
};

/** A refusal of what the request is, not of what is stored. */
const refusesInput = (answer: CallResult): boolean =>
  [400, 413, 415].includes(answer.status) ||
  (answer.status === 422 && answer.body.code === 'VALIDATION_FAILED');

const pointerPattern = (template: string) =>
  new RegExp(`^${template.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]+')}$`);

/** The rule of the operation that states this refusal, if one does. */
const ruleStating = (operation: DocumentedOperation, answer: CallResult) =>
  (operation['x-rules'] ?? []).find((rule) => {
    if (rule.status !== answer.status || rule.code !== answer.body.code) return false;
    if (rule.detail !== undefined) return rule.detail === answer.body.detail;
    const errors = (answer.body.errors ?? []) as { pointer: string }[];
    const pointer = rule.pointer;
    return (
      pointer !== undefined &&
      errors.length > 0 &&
      errors.every((error) => pointerPattern(pointer).test(error.pointer))
    );
  });

/** A request the document allows, answered as it says: success, or a refusal it states. */
const answersAsDocumented = (operation: DocumentOperation) =>
  fc.asyncProperty(validRequestOf(operation, idsFor), async (request) => {
    const before = await tableSnapshot();
    const answer = await send(request);
    const said = `${request.method} ${request.path} ${JSON.stringify(request.query)} ${JSON.stringify(request.headers)} ${JSON.stringify(request.body)} → ${answer.status} ${answer.text}`;
    expect(answer.status, said).toBeLessThan(500);
    if (answer.status >= 400) {
      expect(answer.headers.get('content-type'), said).toBe('application/problem+json');
      // A partial conflict keeps the groups it could write, as it says (`groups`).
      if (answer.body.code !== 'PARTIAL_CONFLICT') expect(await tableSnapshot(), said).toEqual(before);
      if (refusesInput(answer))
        expect(
          ruleStating(operation.operation, answer),
          `refused, and the document does not say why: ${said}`,
        ).toBeDefined();
    }
  });

const byKey = (operation: DocumentOperation) => `${operation.method} ${operation.template}`;
/** Each operation's own seed, so no two draw the same Idempotency-Keys (keys span the whole API). */
const seedOf = (operation: DocumentOperation) => SEED + 2 * operations.indexOf(operation);

describe(`requests made from openapi.json, for every operation (${RUNS} of each kind, seed ${SEED})`, () => {
  it.each(operations.map((operation) => [byKey(operation), operation] as const))(
    '%s: a request the document allows is answered as it says',
    async (_key, operation) => {
      await fc.assert(answersAsDocumented(operation), {
        numRuns: RUNS,
        seed: seedOf(operation),
        endOnFailure: true,
      });
    },
  );

  it.each(operations.filter(takesInput).map((operation) => [byKey(operation), operation] as const))(
    '%s: a request one change outside the document is refused, and changes nothing',
    async (_key, operation) => {
      await fc.assert(
        fc.asyncProperty(invalidRequestOf(operation, idsFor), async ({ where, request }) => {
          const before = await tableSnapshot();
          const answer = await send(request);
          const said = `${where}: ${request.method} ${request.path} ${JSON.stringify(request.query)} ${JSON.stringify(request.headers)} ${JSON.stringify(request.body)} → ${answer.status} ${answer.text}`;
          expect(answer.status >= 400 && answer.status < 500, said).toBe(true);
          // The body is checked before anything else the request says; a header, a query
          // parameter or a path id may meet an earlier check (428, 404) first: refused all the same.
          if (where === 'body') expect(refusesInput(answer), said).toBe(true);
          expect(await tableSnapshot(), said).toEqual(before);
        }),
        { numRuns: RUNS, seed: seedOf(operation) + 1, endOnFailure: true },
      );
    },
  );

  it('only the public reads take nothing the document could refuse', () => {
    expect(operations.filter((operation) => !takesInput(operation)).map(byKey)).toEqual([
      'GET /health',
      'GET /openapi.json',
    ]);
  });
});

describe('the suite catches a document that says less than the server checks', () => {
  it('without the currency list in the document, a request it allows is refused for a reason it does not state', async () => {
    const { dereferenced } = loadDocument();
    const weakened = dereferenced as OpenApiDocument;
    const create = weakened.paths['/accounts']?.post as DocumentedOperation;
    const body = create.requestBody?.content['application/json']?.schema as {
      properties: Record<string, Record<string, unknown>>;
    };
    const currency = body.properties.currency as Record<string, unknown>;
    expect(Array.isArray(currency.enum)).toBe(true);
    delete currency.enum;

    const result = await fc.check(
      answersAsDocumented({ method: 'POST', template: '/accounts', operation: create }),
      {
        numRuns: 50,
        seed: SEED,
        endOnFailure: true,
      },
    );

    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toContain('refused, and the document does not say why');
    expect(String(result.errorInstance)).toContain(
      '"pointer":"/currency","detail":"Not an ISO 4217 currency code."',
    );
  });
});
