/**
 * A small typed client for the HTTP API, for automated writers and the e2e tests. Errors
 * arrive as ApiError with the problem's `code`, so `updateWithRetry` can tell a conflict
 * worth retrying from everything else.
 */

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  [extension: string]: unknown;
}

export class ApiError extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.code}: ${problem.detail}`);
    this.name = 'ApiError';
    this.code = problem.code;
  }
}

export interface OrderLine {
  lineId: string;
  sku: string;
  description?: string;
  quantity: number;
  unitPrice: number;
}

export interface Order {
  id: string;
  customer: string;
  notes?: string;
  status: 'draft' | 'approved' | 'shipped' | 'cancelled';
  lines: OrderLine[];
  total: number;
  version: number;
  lock?: { owner: string; expiresAt: string };
}

export interface Annotation {
  id: string;
  name: string;
  description?: string;
  tags?: string[];
  version: number;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

export const createApiClient = (options: { baseUrl: string; token: string }) => {
  const request = async <T>(
    method: string,
    path: string,
    { body, headers = {} }: RequestOptions = {},
  ): Promise<T> => {
    const response = await fetch(`${options.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) throw new ApiError(response.status, parsed as Problem);
    return parsed as T;
  };
  const ifMatch = (version: number) => ({ 'if-match': `"${version}"` });

  return {
    request,
    getAnnotation: (id: string) => request<Annotation>('GET', `/annotations/${id}`),
    replaceAnnotation: (id: string, version: number, fields: Omit<Annotation, 'id' | 'version'>) =>
      request<Annotation>('PUT', `/annotations/${id}`, { body: fields, headers: ifMatch(version) }),
    createOrder: (input: { customer: string; notes?: string; lines?: Omit<OrderLine, 'lineId'>[] }) =>
      request<Order>('POST', '/orders', { body: input }),
    getOrder: (id: string) => request<Order>('GET', `/orders/${id}`),
    addLine: (id: string, version: number, line: Omit<OrderLine, 'lineId'>) =>
      request<{ orderId: string; version: number; line: OrderLine }>('POST', `/orders/${id}/lines`, {
        body: line,
        headers: ifMatch(version),
      }),
    patchLine: (id: string, lineId: string, version: number, patch: Partial<Omit<OrderLine, 'lineId'>>) =>
      request<{ orderId: string; version: number; line: OrderLine }>(
        'PATCH',
        `/orders/${id}/lines/${lineId}`,
        {
          body: patch,
          headers: ifMatch(version),
        },
      ),
    transition: (id: string, version: number, to: Order['status']) =>
      request<Omit<Order, 'lines' | 'total'>>('POST', `/orders/${id}/transitions`, {
        body: { to },
        headers: ifMatch(version),
      }),
  };
};

export type ApiClient = ReturnType<typeof createApiClient>;
