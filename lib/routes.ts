import type { tableSpec } from './db/table-spec';
import type { Role } from './domain/roles';

/** The Lambda functions, one per resource; each is `functions/<name>.ts` exporting `handler`. */
export const functionNames = ['health', 'annotations', 'orders', 'debtors', 'articles', 'accounts'] as const;
export type FunctionName = (typeof functionNames)[number];

/**
 * A DynamoDB action as IAM names it. A TransactWriteItems is authorised by the action of
 * each item it holds (`Put` needs PutItem, `Delete` DeleteItem); it is no IAM action itself.
 */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem';

export type IndexName = (typeof tableSpec.globalIndexes)[number]['name'];

/** What one function's code paths send to the table: its IAM policy is made of exactly this. */
export interface TableAccess {
  /** Actions on the table's own items (a Query without an index is one of them). */
  readonly table: readonly TableAction[];
  /** Global indexes it queries (`dynamodb:Query` on each). */
  readonly indexes: readonly IndexName[];
}

/**
 * Each function's table access, declared once: the stack grants exactly this, and a test
 * drives every code path of each function against DynamoDB Local and holds what it sends
 * to this, so a missing action fails a test, and so does one never sent. Every keyed write
 * is a transaction with the key's record (a Put) and reads that record on a refusal or
 * replay (GetItem); `undefined`: no table access at all.
 */
export const functionTableAccess: Readonly<Record<FunctionName, TableAccess | undefined>> = {
  health: undefined,
  annotations: {
    table: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    indexes: ['byType'],
  },
  orders: {
    table: [
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    indexes: ['byType'],
  },
  debtors: {
    table: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    indexes: [],
  },
  articles: {
    table: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    indexes: [],
  },
  accounts: {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    indexes: [],
  },
};

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. `/annotations/{id}`. */
  readonly path: string;
  readonly fn: FunctionName;
  /** `public`: no token needed. Otherwise the roles allowed; `any` is every signed-in user. */
  readonly access: 'public' | 'any' | readonly Role[];
}

/** One row of the route table: `route('PUT /annotations/{id}', 'annotations', 'any')`. */
const route = (key: `${HttpMethod} /${string}`, fn: FunctionName, access: RouteSpec['access']): RouteSpec => {
  const [method, path] = key.split(' ') as [HttpMethod, string];
  return { method, path, fn, access };
};

/**
 * The route table: the one place a route is declared. The CDK HttpApi, the local server,
 * the Lambda dispatchers and the tests are all derived from it.
 */
export const routes: readonly RouteSpec[] = [
  route('GET /health', 'health', 'public'),
  route('GET /openapi.json', 'health', 'public'),

  route('POST /annotations', 'annotations', 'any'),
  route('GET /annotations', 'annotations', 'any'),
  route('POST /annotations/batch', 'annotations', 'any'),
  route('GET /annotations/{id}', 'annotations', 'any'),
  route('PUT /annotations/{id}', 'annotations', 'any'),
  route('PATCH /annotations/{id}', 'annotations', 'any'),
  route('DELETE /annotations/{id}', 'annotations', 'any'),
  route('POST /annotations/{id}/lock', 'annotations', 'any'),
  route('PUT /annotations/{id}/lock', 'annotations', 'any'),
  route('DELETE /annotations/{id}/lock', 'annotations', 'any'),

  route('POST /orders', 'orders', ['sales']),
  route('GET /orders', 'orders', 'any'),
  route('GET /orders/{id}', 'orders', 'any'),
  route('PUT /orders/{id}', 'orders', ['sales']),
  route('PATCH /orders/{id}', 'orders', ['sales']),
  route('POST /orders/{id}/lines', 'orders', ['sales']),
  route('PATCH /orders/{id}/lines/{lineId}', 'orders', ['sales']),
  route('DELETE /orders/{id}/lines/{lineId}', 'orders', ['sales']),
  route('POST /orders/{id}/transitions', 'orders', ['sales', 'supervisor', 'warehouse']),
  route('POST /orders/{id}/lock', 'orders', 'any'),
  route('PUT /orders/{id}/lock', 'orders', 'any'),
  route('DELETE /orders/{id}/lock', 'orders', 'any'),

  route('POST /debtors', 'debtors', ['customer-relations']),
  route('GET /debtors/{id}', 'debtors', 'any'),
  route('PATCH /debtors/{id}', 'debtors', 'any'),
  route('POST /debtors/{id}/postings', 'debtors', ['finance']),

  route('POST /articles', 'articles', ['purchasing']),
  route('GET /articles/{id}', 'articles', 'any'),
  route('PATCH /articles/{id}', 'articles', 'any'),
  route('POST /articles/{id}/stock-movements', 'articles', ['warehouse']),

  route('POST /accounts', 'accounts', ['finance']),
  route('GET /accounts/{id}', 'accounts', ['finance', 'supervisor']),
  route('POST /accounts/{id}/deposits', 'accounts', ['finance']),
  route('POST /accounts/{id}/withdrawals', 'accounts', ['finance']),
  route('GET /accounts/{id}/entries', 'accounts', ['finance', 'supervisor']),
  route('POST /transfers', 'accounts', ['finance']),
];

/** API Gateway's route key, e.g. `PUT /annotations/{id}`; also what the dispatchers switch on. */
export const routeKeyOf = (route: Pick<RouteSpec, 'method' | 'path'>): string =>
  `${route.method} ${route.path}`;

/**
 * The media types a route's body may have: JSON, and for the annotation PATCH, whose body
 * is a JSON Merge Patch (RFC 7396), `application/merge-patch+json` too. Anything else is 415.
 */
export const bodyMediaTypes = (routeKey: string): readonly string[] =>
  routeKey === 'PATCH /annotations/{id}'
    ? ['application/json', 'application/merge-patch+json']
    : ['application/json'];
