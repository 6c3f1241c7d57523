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
    indexes: ['byType'],
  },
  articles: {
    table: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    indexes: ['byType'],
  },
  accounts: {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    indexes: ['byType'],
  },
};

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route key as API Gateway writes it, `PUT /annotations/{id}` (the contract's `RouteKey` is the exact set). */
type RouteKeyShape = `${HttpMethod} /${string}`;

export interface RouteSpec {
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. `/annotations/{id}`. */
  readonly path: string;
  readonly fn: FunctionName;
  /** `public`: no token needed. Otherwise the roles allowed; `any` is every signed-in user. */
  readonly access: 'public' | 'any' | readonly Role[];
}

/**
 * One function's part of the route table: each route key, as API Gateway writes it, with
 * who may call it. Each is its own constant, so a function's bundle holds its own routes
 * only (`createHandler(orderRoutes, …)`), not the whole table.
 */
export interface RouteGroup {
  readonly fn: FunctionName;
  readonly access: Readonly<Record<RouteKeyShape, RouteSpec['access']>>;
}

export const healthRoutes = {
  fn: 'health',
  access: {
    'GET /health': 'public',
    'GET /openapi.json': 'public',
  },
} as const satisfies RouteGroup;

export const annotationRoutes = {
  fn: 'annotations',
  access: {
    'POST /annotations': 'any',
    'GET /annotations': 'any',
    'POST /annotations/batch': 'any',
    'GET /annotations/{id}': 'any',
    'PUT /annotations/{id}': 'any',
    'PATCH /annotations/{id}': 'any',
    'DELETE /annotations/{id}': 'any',
    'POST /annotations/{id}/lock': 'any',
    'PUT /annotations/{id}/lock': 'any',
    'DELETE /annotations/{id}/lock': 'any',
  },
} as const satisfies RouteGroup;

export const orderRoutes = {
  fn: 'orders',
  access: {
    'POST /orders': ['sales'],
    'GET /orders': 'any',
    'GET /orders/{id}': 'any',
    'PUT /orders/{id}': ['sales'],
    'PATCH /orders/{id}': ['sales'],
    'POST /orders/{id}/lines': ['sales'],
    'PATCH /orders/{id}/lines/{lineId}': ['sales'],
    'DELETE /orders/{id}/lines/{lineId}': ['sales'],
    'POST /orders/{id}/transitions': ['sales', 'supervisor', 'warehouse'],
    'POST /orders/{id}/lock': 'any',
    'PUT /orders/{id}/lock': 'any',
    'DELETE /orders/{id}/lock': 'any',
  },
} as const satisfies RouteGroup;

export const debtorRoutes = {
  fn: 'debtors',
  access: {
    'POST /debtors': ['customer-relations'],
    'GET /debtors': 'any',
    'GET /debtors/{id}': 'any',
    'PATCH /debtors/{id}': 'any',
    'POST /debtors/{id}/postings': ['finance'],
  },
} as const satisfies RouteGroup;

export const articleRoutes = {
  fn: 'articles',
  access: {
    'POST /articles': ['purchasing'],
    'GET /articles': 'any',
    'GET /articles/{id}': 'any',
    'PATCH /articles/{id}': 'any',
    'POST /articles/{id}/stock-movements': ['warehouse'],
  },
} as const satisfies RouteGroup;

export const accountRoutes = {
  fn: 'accounts',
  access: {
    'POST /accounts': ['finance'],
    'GET /accounts': ['finance', 'supervisor'],
    'GET /accounts/{id}': ['finance', 'supervisor'],
    'POST /accounts/{id}/deposits': ['finance'],
    'POST /accounts/{id}/withdrawals': ['finance'],
    'GET /accounts/{id}/entries': ['finance', 'supervisor'],
    'POST /transfers': ['finance'],
  },
} as const satisfies RouteGroup;

/** A group's rows, in the order it declares them. */
export const routesOf = (group: RouteGroup): RouteSpec[] =>
  Object.entries(group.access).map(([key, access]) => {
    const [method, path] = key.split(' ') as [HttpMethod, string];
    return { method, path, fn: group.fn, access };
  });

/**
 * The route table: the one place a route is declared, every function's group in turn. The
 * CDK HttpApi, the local server, the Lambda dispatchers and the tests are all derived from it.
 * Pure, so a bundle that does not read the whole table leaves it out.
 */
export const routes: readonly RouteSpec[] = /* @__PURE__ */ [
  healthRoutes,
  annotationRoutes,
  orderRoutes,
  debtorRoutes,
  articleRoutes,
  accountRoutes,
].flatMap(routesOf);

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

/** The methods a path takes, in this order in every `Allow` header. */
const methodOrder: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const httpMethods = methodOrder;

/** Every path template of the table with the methods it takes. */
export const pathMethods = (
  table: readonly RouteSpec[] = routes,
): ReadonlyMap<string, readonly HttpMethod[]> => {
  const known = pathsOfTable.get(table);
  if (known) return known;
  const byPath = new Map<string, HttpMethod[]>();
  for (const route of table) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route.method]);
  for (const methods of byPath.values())
    methods.sort((a, b) => methodOrder.indexOf(a) - methodOrder.indexOf(b));
  pathsOfTable.set(table, byPath);
  return byPath;
};
const pathsOfTable = new WeakMap<readonly RouteSpec[], ReadonlyMap<string, readonly HttpMethod[]>>();

/** The catch-all route key of a path: what answers a method the path does not take (405). */
export const anyRouteKeyOf = (path: string): string => `ANY ${path}`;

/** What a request's method and path are, by the route table. */
export type RouteMatch =
  /** A route: its path parameters, as sent (still percent-encoded). */
  | { readonly route: RouteSpec; readonly parameters: Record<string, string> }
  /** A path of the table, with a method it does not take: 405 with `Allow`. */
  | { readonly path: string; readonly allowed: readonly HttpMethod[] }
  /** No path of the table: 404. */
  | undefined;

/**
 * The route a request goes to, as API Gateway picks it with an `ANY` route beside every path
 * of the table (the stack declares them): the most specific path template that matches wins,
 * a fixed segment over a parameter, from the left, whatever the method; then the method
 * decides between the route and 405. So `batch` is never an annotation's id: `PUT
 * /annotations/batch` is 405, not `PUT /annotations/{id}`. `rawPath` is the path as sent,
 * neither decoded nor normalised: a fixed segment matches only itself, spelled as itself,
 * and a parameter is any non-empty segment (`..` and `%2e%2e` included: the action refuses
 * those as ids).
 */
export const matchRoute = (
  method: string,
  rawPath: string,
  table: readonly RouteSpec[] = routes,
): RouteMatch => {
  const segments = rawPath.split('/').slice(1);
  let best: { path: string; score: string; values: string[] } | undefined;
  for (const path of pathMethods(table).keys()) {
    const template = path.split('/').slice(1);
    if (template.length !== segments.length) continue;
    const values: string[] = [];
    let score = '';
    const matches = template.every((part, index) => {
      const segment = segments[index] ?? '';
      if (/^\{\w+\}$/.test(part)) {
        values.push(segment);
        score += '0';
        return segment.length > 0;
      }
      score += '1';
      return part === segment;
    });
    if (matches && (!best || score > best.score)) best = { path, score, values };
  }
  if (!best) return undefined;
  const { path, values } = best;
  const route = table.find((candidate) => candidate.path === path && candidate.method === method);
  if (!route) return { path, allowed: pathMethods(table).get(path) ?? [] };
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
  return { route, parameters: Object.fromEntries(names.map((name, index) => [name, values[index] ?? ''])) };
};
