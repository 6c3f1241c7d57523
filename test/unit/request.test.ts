import { describe, expect, it } from 'vitest';
// Classic zod installs its English messages globally when loaded (the contract and the local
// server load it): the API's own messages must hold all the same.
import 'zod';
import * as z from 'zod/mini';
import type { ValidationError } from '../../lib/errors';
import { principalOf } from '../../lib/http/principal';
import { type ApiEvent, type ApiRequest, preconditionOf } from '../../lib/http/request';
import { pageQuerySchema, parseBody } from '../../lib/http/validation';
import { routes } from '../../lib/routes';

const eventWith = (headers: Record<string, string>, claims?: Record<string, unknown>): ApiEvent =>
  ({
    headers,
    routeKey: 'PUT /annotations/{id}',
    rawPath: '/annotations/a',
    requestContext: {
      http: { method: 'PUT' },
      requestId: 'r',
      ...(claims ? { authorizer: { jwt: { claims } } } : {}),
    },
  }) as unknown as ApiEvent;

const requestWith = (headers: Record<string, string>): ApiRequest => ({
  event: eventWith(headers),
  route: routes[0] as ApiRequest['route'],
  principal: { sub: 'u', roles: [] },
  body: undefined,
  now: new Date(),
  requestId: 'r',
});

describe('preconditions', () => {
  it('reads a strong ETag from If-Match, and says it came from the header (a stale one is 412)', () => {
    const request = requestWith({ 'if-match': '"7"' });
    expect(preconditionOf(request, undefined)).toEqual({ kind: 'version', version: 7, source: 'header' });
  });

  it('reads the body version when there is no header (a stale one is 409)', () => {
    const request = requestWith({});
    expect(preconditionOf(request, 3)).toEqual({ kind: 'version', version: 3, source: 'body' });
  });

  it('accepts both when they agree', () => {
    expect(preconditionOf(requestWith({ 'if-match': '"3"' }), 3)).toEqual({
      kind: 'version',
      version: 3,
      source: 'header',
    });
  });

  it('treats * as an explicit overwrite', () => {
    expect(preconditionOf(requestWith({ 'if-match': '*' }), undefined)).toEqual({ kind: 'any' });
  });

  it('answers 400 when header and body disagree', () => {
    expect(() => preconditionOf(requestWith({ 'if-match': '"3"' }), 4)).toThrow(
      expect.objectContaining({ code: 'MALFORMED_REQUEST', status: 400 }),
    );
  });

  it('answers 400 for a list of ETags or a value that is no ETag at all', () => {
    for (const value of ['"3", "4"', '3', '"unterminated', 'W/3']) {
      expect(() => preconditionOf(requestWith({ 'if-match': value }), undefined)).toThrow(
        expect.objectContaining({ code: 'MALFORMED_REQUEST' }),
      );
    }
  });

  it('takes a weak ETag or one this API never hands out as a version nothing matches (412 later)', () => {
    for (const value of ['W/"3"', '"three"', '"0"']) {
      expect(preconditionOf(requestWith({ 'if-match': value }), undefined)).toEqual({
        kind: 'version',
        version: 0,
        source: 'header',
      });
    }
  });

  it('answers 428 when neither is given', () => {
    expect(() => preconditionOf(requestWith({}), undefined)).toThrow(
      expect.objectContaining({ code: 'PRECONDITION_REQUIRED', status: 428 }),
    );
  });
});

describe('the caller from JWT claims', () => {
  it('reads groups as API Gateway flattens them', () => {
    expect(principalOf(eventWith({}, { sub: 'ann', groups: '[sales supervisor]' }))).toEqual({
      sub: 'ann',
      roles: ['sales', 'supervisor'],
    });
  });

  it('reads cognito:groups and JSON arrays, and drops unknown roles', () => {
    expect(principalOf(eventWith({}, { sub: 'ann', 'cognito:groups': '["finance","admin"]' })).roles).toEqual(
      ['finance'],
    );
    expect(principalOf(eventWith({}, { sub: 'ann', groups: ['warehouse'] })).roles).toEqual(['warehouse']);
  });

  it('is 401 without a sub', () => {
    expect(() => principalOf(eventWith({}))).toThrow(
      expect.objectContaining({ code: 'UNAUTHENTICATED', status: 401 }),
    );
  });
});

describe('validation messages', () => {
  const schema = z.strictObject({
    name: z.string().check(z.minLength(2)),
    count: z.int().check(z.minimum(1), z.maximum(9)),
    kind: z.enum(['a', 'b']),
    tags: z.array(z.string()).check(z.maxLength(1)),
  });
  const errorsOf = (body: unknown) => {
    try {
      parseBody(schema, body);
    } catch (error) {
      return (error as ValidationError).errors;
    }
    throw new Error('expected a ValidationError');
  };

  it('each kind of issue has its own detail, pointing at its field', () => {
    expect(errorsOf({ name: 'x', count: 10, kind: 'c', tags: ['p', 'q'], extra: 1 })).toEqual([
      { pointer: '/name', detail: 'Must be at least 2 characters.' },
      { pointer: '/count', detail: 'Must be at most 9.' },
      { pointer: '/kind', detail: 'Expected "a" or "b".' },
      { pointer: '/tags', detail: 'Must be at most 1 item.' },
      { pointer: '/extra', detail: 'Unknown field.' },
    ]);
    expect(errorsOf({ count: 0.5, kind: 'a', tags: [3] })).toEqual([
      { pointer: '/name', detail: 'Required: string.' },
      { pointer: '/count', detail: 'Expected integer, received number.' },
      { pointer: '/tags/0', detail: 'Expected string, received number.' },
    ]);
  });

  it('the page size is an integer 1..100 read from its text, 20 when not given', () => {
    const limitOf = (query: Record<string, string>) => pageQuerySchema.safeParse(query).data?.limit;
    expect([
      limitOf({}),
      limitOf({ limit: '1' }),
      limitOf({ limit: '100' }),
      limitOf({ limit: ' 7' }),
    ]).toEqual([20, 1, 100, 7]);
    expect(['0', '101', '5.5', 'x', ''].map((limit) => limitOf({ limit }))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
