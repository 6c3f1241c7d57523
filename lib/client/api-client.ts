import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type * as answers from '../contract/responses';

/**
 * A typed client for the HTTP API, for automated writers and the e2e tests. Its types are
 * the answer schemas the OpenAPI document is made from. Errors arrive as ApiError with the
 * problem's `code` (API Gateway's own `{"message"}` 401 and 404 bodies included), so
 * `updateWithRetry` can tell a conflict worth retrying from everything else.
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
    /** Seconds the server asked to wait before trying again, if it said. */
    readonly retryAfter?: number,
  ) {
    super(`${status} ${problem.code}: ${problem.detail}`);
    this.name = 'ApiError';
    this.code = problem.code;
  }
}

export type Annotation = z.infer<typeof answers.annotationRecord>;
export type OrderLine = z.infer<typeof answers.orderLine>;
/** An order; `total` is a bigint past 2^53, where a number would round. */
export type Order = Omit<z.infer<typeof answers.order>, 'total'> & { total: number | bigint };
export type OrderHeader = z.infer<typeof answers.orderHeader>;
export type LineAnswer = z.infer<typeof answers.lineAnswer>;

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

/** An answer with what its headers said. */
export interface Answer<T> {
  status: number;
  body: T;
  /** The version of `ETag: "<version>"`, when sent. */
  etag?: number;
  /** True when the answer repeats the first answer of its Idempotency-Key. */
  replayed: boolean;
}

/** A GET answered 304: the copy the caller has is current. */
export interface NotModified {
  status: 304;
  notModified: true;
  etag?: number;
}

/** Statuses after which a write is sent again, with the same Idempotency-Key. */
const RESEND_STATUSES = new Set([500, 502, 503, 504]);

/** Sends of one write before the client gives up on a lost or failed answer. */
export const WRITE_SENDS = 3;

// Node 22's JSON.parse hands a reviver the source text; TypeScript's lib does not declare it.
type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;
const exactIntegers: Reviver = (_key, value, context) =>
  typeof value === 'number' &&
  !Number.isSafeInteger(value) &&
  context?.source &&
  /^-?\d+$/.test(context.source)
    ? BigInt(context.source)
    : value;

/** A body as JSON, integers past 2^53 as bigints (an order's exact total). */
export const parseJson = (text: string): unknown =>
  text ? JSON.parse(text, exactIntegers as Parameters<typeof JSON.parse>[1]) : undefined;

/**
 * API Gateway answers a bad token (401) and an unknown route (404) itself, with
 * `{"message": "..."}`: the same problem a local server would give.
 */
const problemOf = (status: number, parsed: unknown): Problem => {
  const body = (parsed ?? {}) as Record<string, unknown>;
  if (typeof body.code === 'string') return body as Problem;
  const code =
    status === 401
      ? 'UNAUTHENTICATED'
      : status === 404
        ? 'NOT_FOUND'
        : status >= 500
          ? 'INTERNAL'
          : 'UNKNOWN';
  const message = typeof body.message === 'string' ? body.message : `HTTP ${status}`;
  return { type: 'about:blank', title: message, status, detail: message, code, requestId: '' };
};

const etagOf = (headers: Headers): number | undefined => {
  const match = /^"(\d+)"$/.exec(headers.get('etag') ?? '');
  return match ? Number(match[1]) : undefined;
};

/**
 * A client for the HTTP API. Every write carries an Idempotency-Key made once for that
 * call: when its answer is lost (a network error) or a server error, the very same request
 * is sent again with the same key, so it is applied once and the repeat gets its first
 * answer. A new call is a new intended change, with a new key.
 */
export const createApiClient = (options: { baseUrl: string; token: string; resendDelayMs?: number }) => {
  const once = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const response = await fetch(`${options.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };

  /** Any route: the answer with its ETag and replay flag, 304 as NotModified, errors as ApiError. */
  const send = async <T>(
    method: string,
    path: string,
    { body, headers = {} }: RequestOptions = {},
  ): Promise<Answer<T> | NotModified> => {
    const isWrite = method !== 'GET';
    const keyed =
      isWrite && !('idempotency-key' in headers) ? { 'idempotency-key': randomUUID(), ...headers } : headers;
    let answer: Awaited<ReturnType<typeof once>> | undefined;
    for (let sent = 1; ; sent += 1) {
      try {
        answer = await once(method, path, body, keyed);
        if (!isWrite || !RESEND_STATUSES.has(answer.status) || sent >= WRITE_SENDS) break;
      } catch (error) {
        if (!isWrite || sent >= WRITE_SENDS) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, (options.resendDelayMs ?? 100) * sent));
    }
    const etag = etagOf(answer.headers);
    if (answer.status === 304)
      return { status: 304, notModified: true, ...(etag === undefined ? {} : { etag }) };
    const parsed = parseJson(answer.text);
    if (answer.status >= 400) {
      const retryAfter = Number(answer.headers.get('retry-after') ?? Number.NaN);
      throw new ApiError(
        answer.status,
        problemOf(answer.status, parsed),
        Number.isNaN(retryAfter) ? undefined : retryAfter,
      );
    }
    return {
      status: answer.status,
      body: parsed as T,
      ...(etag === undefined ? {} : { etag }),
      replayed: answer.headers.get('idempotent-replayed') === 'true',
    };
  };

  /** The body of an answer that cannot be 304. */
  const request = async <T>(method: string, path: string, requestOptions: RequestOptions = {}): Promise<T> =>
    ((await send<T>(method, path, requestOptions)) as Answer<T>).body;
  const ifMatch = (version: number) => ({ 'if-match': `"${version}"` });

  return {
    send,
    request,
    createAnnotation: (fields: Pick<Annotation, 'name' | 'description' | 'tags'>) =>
      request<Annotation>('POST', '/annotations', { body: fields }),
    getAnnotation: (id: string) => request<Annotation>('GET', `/annotations/${id}`),
    patchAnnotation: (
      id: string,
      version: number,
      patch: Partial<Pick<Annotation, 'name' | 'description' | 'tags'>>,
    ) => request<Annotation>('PATCH', `/annotations/${id}`, { body: patch, headers: ifMatch(version) }),
    replaceAnnotation: (
      id: string,
      version: number,
      fields: Pick<Annotation, 'name' | 'description' | 'tags'>,
    ) => request<Annotation>('PUT', `/annotations/${id}`, { body: fields, headers: ifMatch(version) }),
    createOrder: (input: { customer: string; notes?: string; lines?: Omit<OrderLine, 'lineId'>[] }) =>
      request<Order>('POST', '/orders', { body: input }),
    getOrder: (id: string) => request<Order>('GET', `/orders/${id}`),
    addLine: (id: string, version: number, line: Omit<OrderLine, 'lineId'>) =>
      request<LineAnswer>('POST', `/orders/${id}/lines`, { body: line, headers: ifMatch(version) }),
    patchLine: (id: string, lineId: string, version: number, patch: Partial<Omit<OrderLine, 'lineId'>>) =>
      request<LineAnswer>('PATCH', `/orders/${id}/lines/${lineId}`, {
        body: patch,
        headers: ifMatch(version),
      }),
    transition: (id: string, version: number, to: Order['status']) =>
      request<OrderHeader>('POST', `/orders/${id}/transitions`, { body: { to }, headers: ifMatch(version) }),
  };
};

export type ApiClient = ReturnType<typeof createApiClient>;
