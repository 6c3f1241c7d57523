import * as z from 'zod';
import { SEARCH_QUERIES, SEARCH_QUERY_ITEMS } from '../core/build/search';
import { SEARCH_TERM_MAX } from '../http/validation';
import { type ErrorCode, problemCatalog, retryAfterCodes } from '../problems';
import { bodyMediaTypes, routeKeyOf, routes } from '../routes';
import { type HeaderUse, type Operation, operations } from './operations';
import { problem } from './responses';

/** The status each code is answered with, from the one table the errors are made from. */
export const statusesOf = Object.fromEntries(
  Object.entries(problemCatalog).map(([code, problem]) => [code, problem.statuses]),
) as unknown as Record<ErrorCode, readonly number[]>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
};

const etag = {
  description: 'The strong ETag of the version answered: "<version>".',
  schema: { type: 'string' },
};

const headerParameters: Record<HeaderUse, Record<string, unknown>> = {
  'if-match': {
    name: 'If-Match',
    in: 'header',
    description: 'The version the change is based on, `"<version>"`, or `*` to overwrite whatever is stored.',
    schema: { type: 'string' },
  },
  'if-none-match': {
    name: 'If-None-Match',
    in: 'header',
    description: 'ETags the caller has; the current one gets 304.',
    schema: { type: 'string' },
  },
  'idempotency-key': {
    name: 'Idempotency-Key',
    in: 'header',
    description: 'Makes the request happen once: a repeat within 24 h gets the first answer.',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]+$' },
  },
  'idempotency-key-required': {
    name: 'Idempotency-Key',
    in: 'header',
    required: true,
    description: 'Required: money and stock move once per key.',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]+$' },
  },
  'lock-token': {
    name: 'Lock-Token',
    in: 'header',
    description: 'The token of the lock the caller holds on the record.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
  },
  'lock-token-required': {
    name: 'Lock-Token',
    in: 'header',
    required: true,
    description: 'The token of the lock to renew.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
  },
};

const operationId = (method: string, path: string): string =>
  [method.toLowerCase(), ...path.split('/').filter(Boolean)]
    .map((part) =>
      part.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)/g, (_, next: string) => next.toUpperCase()),
    )
    .map((part, index) => (index === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');

const successResponse = (operation: Operation): Record<string, unknown> => {
  const { success } = operation;
  const headers: Record<string, unknown> = {};
  if (success.etag) headers.ETag = etag;
  if (success.location)
    headers.Location = { description: 'Where the new record is.', schema: { type: 'string' } };
  if (success.appliedVersion) {
    headers['Applied-Version'] = {
      description:
        'Only on a change recognised as applied after its first answer was lost, when the record has changed since: the version this request wrote. The body and ETag are then the record as it is now.',
      schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
    };
  }
  if (operation.headers?.some((use) => use.startsWith('idempotency-key'))) {
    headers['Idempotent-Replayed'] = {
      description: '`true` on an answer that repeats the first answer of this key.',
      schema: { type: 'string', enum: ['true'] },
    };
  }
  return {
    description: operation.summary,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(success.body
      ? { content: { 'application/json': { schema: jsonSchema(success.body, 'output') } } }
      : {}),
  };
};

const errorResponses = (codes: readonly ErrorCode[]): Record<string, unknown> => {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    for (const status of statusesOf[code]) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, atStatus]) => [
        String(status),
        {
          description: atStatus.join(', '),
          headers: {
            ...(atStatus.some((code) => retryAfterCodes.includes(code))
              ? {
                  'Retry-After': {
                    description: 'Seconds to wait before trying again.',
                    schema: { type: 'string' },
                  },
                }
              : {}),
            ...(status === 401 ? { 'WWW-Authenticate': { schema: { type: 'string' } } } : {}),
          },
          content: { 'application/problem+json': { schema: jsonSchema(problem(atStatus), 'output') } },
        },
      ]),
  );
};

const describeOperation = (route: (typeof routes)[number], operation: Operation): Record<string, unknown> => {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
  }));
  const query = operation.paged
    ? [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        {
          name: 'cursor',
          in: 'query',
          schema: { type: 'string' },
          description: operation.search
            ? 'The `nextCursor` of the last page; one a search handed out serves the same `q` only.'
            : 'The `nextCursor` of the last page.',
        },
        ...(operation.search
          ? [
              {
                name: 'q',
                in: 'query',
                schema: { type: 'string', minLength: 1, maxLength: SEARCH_TERM_MAX },
                description: `Keeps the items whose ${operation.search} contains it, case-insensitively. A page reads at most ${SEARCH_QUERIES} × ${SEARCH_QUERY_ITEMS} items of the list: it may hold fewer than \`limit\` items, even none, with a \`nextCursor\` to read on.`,
              },
            ]
          : []),
      ]
    : [];
  const roles =
    route.access === 'public'
      ? 'none (public)'
      : route.access === 'any'
        ? 'any signed-in user'
        : route.access.join(', ');
  const bodyOptional = operation.body?.safeParse(undefined).success ?? true;
  const mediaTypes = bodyMediaTypes(routeKeyOf(route));
  return {
    operationId: operationId(route.method, route.path),
    summary: operation.summary,
    description: `Roles: ${roles}.`,
    tags: [route.path.split('/')[1] ?? 'api'],
    security: route.access === 'public' ? [] : [{ bearer: [] }],
    parameters: [
      ...pathParameters,
      ...query,
      ...(operation.headers ?? []).map((use) => headerParameters[use]),
    ],
    ...(operation.body
      ? {
          requestBody: {
            required: !bodyOptional,
            content: Object.fromEntries(
              mediaTypes.map((type) => [type, { schema: jsonSchema(operation.body as z.ZodType, 'input') }]),
            ),
          },
        }
      : {}),
    responses: {
      [String(operation.success.status)]: successResponse(operation),
      ...(operation.headers?.includes('if-none-match')
        ? {
            '304': {
              description: 'Not modified: If-None-Match names the current version.',
              headers: { ETag: etag },
            },
          }
        : {}),
      ...errorResponses(operation.errors),
    },
  };
};

const tagDescriptions: Record<string, string> = {
  health: 'Is the API up.',
  'openapi.json': 'This document.',
  annotations: 'Simple versioned records any signed-in user may edit, with leases.',
  orders: 'An aggregate: a header and its lines, one version; transitions by role; leases.',
  debtors: 'Field groups owned by departments; a balance moved only by postings.',
  articles: 'Field groups owned by departments, keyed by SKU; stock moved only by movements.',
  accounts: 'A ledger: balances that move only with an entry, exactly once per key.',
  transfers: 'Both sides of a transfer and both entries in one transaction.',
};

let built: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 document of this API, made from the route table, the domain's request
 * schemas and the answer schemas: every route, body, parameter, header and status.
 */
export const openApiDocument = (): Record<string, unknown> => {
  if (built) return built;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation = (operations as Record<string, Operation>)[routeKeyOf(route)];
    if (!operation) throw new Error(`No operation documents ${routeKeyOf(route)}.`);
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: describeOperation(route, operation),
    };
  }
  built = {
    openapi: '3.1.0',
    info: {
      title: 'no-lost-updates',
      version: '0.1.0',
      description:
        'Multi-user business data in which no update is ever silently lost and no request is ever applied twice.',
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((route) => route.path.split('/')[1] ?? 'api'))].map((name) => ({
      name,
      description: tagDescriptions[name] ?? name,
    })),
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT whose `sub` is the caller and whose `groups` (or `cognito:groups`) are its roles.',
        },
      },
    },
  };
  return built;
};
