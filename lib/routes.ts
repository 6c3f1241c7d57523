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

/**
 * The route table: the one place a route is declared. The CDK HttpApi, the local server,
 * the Lambda dispatchers and the tests are all derived from it.
 */
export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/health', fn: 'health', access: 'public' },
  { method: 'GET', path: '/openapi.json', fn: 'health', access: 'public' },

  { method: 'POST', path: '/annotations', fn: 'annotations', access: 'any' },
  { method: 'GET', path: '/annotations', fn: 'annotations', access: 'any' },
  { method: 'POST', path: '/annotations/batch', fn: 'annotations', access: 'any' },
  { method: 'GET', path: '/annotations/{id}', fn: 'annotations', access: 'any' },
  { method: 'PUT', path: '/annotations/{id}', fn: 'annotations', access: 'any' },
  { method: 'PATCH', path: '/annotations/{id}', fn: 'annotations', access: 'any' },
  { method: 'DELETE', path: '/annotations/{id}', fn: 'annotations', access: 'any' },
  { method: 'POST', path: '/annotations/{id}/lock', fn: 'annotations', access: 'any' },
  { method: 'PUT', path: '/annotations/{id}/lock', fn: 'annotations', access: 'any' },
  { method: 'DELETE', path: '/annotations/{id}/lock', fn: 'annotations', access: 'any' },

  { method: 'POST', path: '/orders', fn: 'orders', access: ['sales'] },
  { method: 'GET', path: '/orders', fn: 'orders', access: 'any' },
  { method: 'GET', path: '/orders/{id}', fn: 'orders', access: 'any' },
  { method: 'PUT', path: '/orders/{id}', fn: 'orders', access: ['sales'] },
  { method: 'PATCH', path: '/orders/{id}', fn: 'orders', access: ['sales'] },
  { method: 'POST', path: '/orders/{id}/lines', fn: 'orders', access: ['sales'] },
  { method: 'PATCH', path: '/orders/{id}/lines/{lineId}', fn: 'orders', access: ['sales'] },
  { method: 'DELETE', path: '/orders/{id}/lines/{lineId}', fn: 'orders', access: ['sales'] },
  {
    method: 'POST',
    path: '/orders/{id}/transitions',
    fn: 'orders',
    access: ['sales', 'supervisor', 'warehouse'],
  },
  { method: 'POST', path: '/orders/{id}/lock', fn: 'orders', access: 'any' },
  { method: 'PUT', path: '/orders/{id}/lock', fn: 'orders', access: 'any' },
  { method: 'DELETE', path: '/orders/{id}/lock', fn: 'orders', access: 'any' },

  { method: 'POST', path: '/debtors', fn: 'debtors', access: ['customer-relations'] },
  { method: 'GET', path: '/debtors/{id}', fn: 'debtors', access: 'any' },
  { method: 'PATCH', path: '/debtors/{id}', fn: 'debtors', access: 'any' },
  { method: 'POST', path: '/debtors/{id}/postings', fn: 'debtors', access: ['finance'] },

  { method: 'POST', path: '/articles', fn: 'articles', access: ['purchasing'] },
  { method: 'GET', path: '/articles/{id}', fn: 'articles', access: 'any' },
  { method: 'PATCH', path: '/articles/{id}', fn: 'articles', access: 'any' },
  { method: 'POST', path: '/articles/{id}/stock-movements', fn: 'articles', access: ['warehouse'] },

  { method: 'POST', path: '/accounts', fn: 'accounts', access: ['finance'] },
  { method: 'GET', path: '/accounts/{id}', fn: 'accounts', access: ['finance', 'supervisor'] },
  { method: 'POST', path: '/accounts/{id}/deposits', fn: 'accounts', access: ['finance'] },
  { method: 'POST', path: '/accounts/{id}/withdrawals', fn: 'accounts', access: ['finance'] },
  { method: 'GET', path: '/accounts/{id}/entries', fn: 'accounts', access: ['finance', 'supervisor'] },
  { method: 'POST', path: '/transfers', fn: 'accounts', access: ['finance'] },
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
