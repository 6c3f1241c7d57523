import { SEARCH_QUERIES, SEARCH_QUERY_ITEMS } from '../core/build/search';
import { SEARCH_TERM_MAX } from '../http/validation';
import { type ErrorCode, problemCatalog, retryAfterCodes } from '../problems';
import { bodyMediaTypes, routeKeyOf, routes } from '../routes';
import { namedSchemas, refOf, shareResponses, shareSchemas } from './components';
import { jsonSchema } from './json-schema';
import { type Operation, operations, type Rule } from './operations';
import { header, headerParameter, parameter, sharedComponents } from './parameters';
import { problemWhen } from './problem-descriptions';

/** The status each code is answered with, from the one table the errors are made from. */
export const statusesOf = Object.fromEntries(
  Object.entries(problemCatalog).map(([code, problem]) => [code, problem.statuses]),
) as unknown as Record<ErrorCode, readonly number[]>;

type Json = Record<string, unknown>;

const operationId = (method: string, path: string): string =>
  [method.toLowerCase(), ...path.split('/').filter(Boolean)]
    .map((part) =>
      part.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)/g, (_, next: string) => next.toUpperCase()),
    )
    .map((part, index) => (index === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');

const successResponse = (operation: Operation): Json => {
  const { success } = operation;
  const headers: Json = {};
  if (success.etag) headers.ETag = header('ETag');
  if (success.location) headers.Location = header('Location');
  if (success.appliedVersion) headers['Applied-Version'] = header('AppliedVersion');
  if (operation.headers?.some((use) => use.startsWith('idempotency-key')))
    headers['Idempotent-Replayed'] = header('IdempotentReplayed');
  return {
    description: operation.summary,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(success.body
      ? { content: { 'application/json': { schema: jsonSchema(success.body, 'output') } } }
      : {}),
  };
};

const errorResponses = (codes: readonly ErrorCode[]): Json => {
  const byStatus = new Map<number, ErrorCode[]>();
  const catalogOrder = Object.keys(problemCatalog);
  const sorted = [...new Set(codes)].sort((a, b) => catalogOrder.indexOf(a) - catalogOrder.indexOf(b));
  for (const code of sorted) {
    for (const status of statusesOf[code]) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, atStatus]) => {
        const headers: Json = {
          ...(atStatus.some((code) => retryAfterCodes.includes(code))
            ? { 'Retry-After': header('RetryAfter') }
            : {}),
          ...(status === 401 ? { 'WWW-Authenticate': header('WWWAuthenticate') } : {}),
        };
        return [
          String(status),
          {
            description: atStatus.map((code) => `${code}: ${problemWhen[code]}.`).join(' '),
            ...(Object.keys(headers).length > 0 ? { headers } : {}),
            content: {
              'application/problem+json': {
                schema: { ...refOf('Problem'), properties: { code: { enum: atStatus } } },
              },
            },
          },
        ];
      }),
  );
};

const ruleLine = (rule: Rule): string =>
  `- ${rule.status} \`${rule.code}\`${rule.pointer ? ` at \`${rule.pointer}\`` : ''}: ${rule.when}.`;

const describeOperation = (route: (typeof routes)[number], operation: Operation): Json => {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => parameter(match[1] as string));
  const query = operation.paged
    ? [
        parameter('limit'),
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
  const rules = operation.rules ?? [];
  const bodySchema = operation.body ? jsonSchema(operation.body, 'input') : undefined;
  return {
    operationId: operationId(route.method, route.path),
    summary: operation.summary,
    description: [
      `Roles: ${roles}.`,
      ...(rules.length > 0 ? ['Refused where the schemas cannot say it:', ...rules.map(ruleLine)] : []),
    ].join('\n'),
    tags: [route.path.split('/')[1] ?? 'api'],
    security: route.access === 'public' ? [] : [{ bearer: [] }],
    parameters: [
      ...pathParameters,
      ...query,
      ...(operation.headers ?? []).map((use) => parameter(headerParameter[use])),
    ],
    ...(bodySchema
      ? {
          requestBody: {
            required: !bodyOptional,
            content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: bodySchema }])),
          },
        }
      : {}),
    responses: {
      [String(operation.success.status)]: successResponse(operation),
      ...(operation.headers?.includes('if-none-match')
        ? {
            '304': {
              description: 'Not modified: If-None-Match names the current version.',
              headers: { ETag: header('ETag') },
            },
          }
        : {}),
      ...errorResponses(operation.errors),
    },
    ...(rules.length > 0 ? { 'x-rules': rules } : {}),
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

const description = [
  'Multi-user business data in which no update is ever silently lost and no request is ever applied twice.',
  '',
  'Every operation lists each status it answers; what its schemas cannot say (a version, a lock, a key, a state, values that relate) is in its description and its `x-rules` (`status`, `code`, the `pointer` of a 422 or the exact `detail` of a 400, and when).',
  'Besides: a method a path does not take is 405 `METHOD_NOT_ALLOWED` with `Allow`; a path this document does not list is 404 `NOT_FOUND`; a body over 256 KiB is 413, one of another media type 415, one that is not UTF-8 JSON or nests deeper than 64 levels 400; a query parameter an operation does not list is 400.',
  'Checks run in this order: route (404, 405), token (401), role (403), body (413, 415, 400), schema (422), precondition (400, 428), key (400); then what is stored (404, 410, 423, 412/409, 409).',
  'A 4xx, `WRITE_CONTENTION` and `THROTTLED` wrote nothing; a success was applied once; `OUTCOME_UNKNOWN` may have been applied: repeat it with its `Idempotency-Key` for its true answer, or read before deciding.',
].join('\n');

let built: Json | undefined;

/**
 * The OpenAPI 3.1 document of this API, made from the route table, the domain's request
 * schemas and the answer schemas: every route, body, parameter, header, status and rule.
 * Records, the problem and the ISO code lists are shared by `$ref`, as are responses that
 * several operations answer alike. Built by `npm run openapi`, not at run time.
 */
export const openApiDocument = (): Json => {
  if (built) return built;
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const operation = (operations as Record<string, Operation>)[routeKeyOf(route)];
    if (!operation) throw new Error(`No operation documents ${routeKeyOf(route)}.`);
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: describeOperation(route, operation),
    };
  }
  const document: Json = {
    openapi: '3.1.0',
    info: {
      title: 'no-lost-updates',
      version: '0.1.0',
      description,
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((route) => route.path.split('/')[1] ?? 'api'))].map((name) => ({
      name,
      description: tagDescriptions[name] ?? name,
    })),
    paths,
    components: sharedComponents(),
  };
  const schemas = namedSchemas(jsonSchema);
  (document.components as Json).schemas = schemas.components;
  const sharedPaths = shareSchemas(paths, schemas.plain);
  document.paths = sharedPaths;
  (document.components as Json).responses = shareResponses(sharedPaths);
  built = document;
  return built;
};
