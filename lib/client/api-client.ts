import { randomUUID } from 'node:crypto';

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

/** Statuses after which a write is sent again, with the same Idempotency-Key. */
const RESEND_STATUSES = new Set([500, 502, 503, 504]);

/** Sends of one write before the client gives up on a lost or failed answer. */
export const WRITE_SENDS = 3;

/**
 * A client for the HTTP API. Every write carries an Idempotency-Key made once for that
 * call: when its answer is lost (a network error) or a server error, the very same request
 * is sent again with the same key, so it is applied once and the repeat gets its first
 * answer. A new call is a new intended change, with a new key.
 */
export const createApiClient = (options: { baseUrl: string; token: string; resendDelayMs?: number }) => {
  const send = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const response = await fetch(`${options.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, text: await response.text() };
  };
  const request = async <T>(
    method: string,
    path: string,
    { body, headers = {} }: RequestOptions = {},
  ): Promise<T> => {
    const isWrite = method !== 'GET';
    const keyed =
      isWrite && !('idempotency-key' in headers) ? { 'idempotency-key': randomUUID(), ...headers } : headers;
    let answer: { status: number; text: string } | undefined;
    for (let sent = 1; ; sent += 1) {
      try {
        answer = await send(method, path, body, keyed);
        if (!isWrite || !RESEND_STATUSES.has(answer.status) || sent >= WRITE_SENDS) break;
      } catch (error) {
        if (!isWrite || sent >= WRITE_SENDS) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, (options.resendDelayMs ?? 100) * sent));
    }
    const parsed = answer.text ? (JSON.parse(answer.text) as unknown) : undefined;
    if (answer.status >= 400) throw new ApiError(answer.status, parsed as Problem);
    return parsed as T;
  };
  const ifMatch = (version: number) => ({ 'if-match': `"${version}"` });

  return {
    request,
    createAnnotation: (fields: Omit<Annotation, 'id' | 'version'>) =>
      request<Annotation>('POST', '/annotations', { body: fields }),
    getAnnotation: (id: string) => request<Annotation>('GET', `/annotations/${id}`),
    patchAnnotation: (id: string, version: number, patch: Partial<Omit<Annotation, 'id' | 'version'>>) =>
      request<Annotation>('PATCH', `/annotations/${id}`, { body: patch, headers: ifMatch(version) }),
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
