import type { Role } from './domain/roles';

/** The Lambda functions, one per resource; each is `functions/<name>.ts` exporting `handler`. */
export const functionNames = ['health', 'annotations', 'orders', 'debtors', 'articles', 'accounts'] as const;
export type FunctionName = (typeof functionNames)[number];

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
