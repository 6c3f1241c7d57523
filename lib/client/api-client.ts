import type { RouteKey } from '../contract/operations';
import { versionOfEtag } from '../etag';
import {
  type Answer,
  ApiError,
  type CallAnswer,
  type CallArguments,
  type CallOptions,
  type KeyOption,
  type NotModified,
  type Order,
  parseJson,
  problemOf,
  type RequestBody,
  type RequestOptions,
} from './answers';

/**
 * A typed client for the HTTP API, for automated writers, the web app and the e2e tests.
 * Its types are the request and answer schemas the OpenAPI document is made from: `call`
 * takes any route key of the document and types its path parameters, body and answer. Errors arrive as ApiError with the
 * problem's `code` (API Gateway's own `{"message"}` 401 and 404 bodies included), so
 * `updateWithRetry` can tell a conflict worth retrying from everything else.
 */

/**
 * Statuses after which a write is sent again, with the same Idempotency-Key: a server error,
 * and 503 (OUTCOME_UNKNOWN: the same request with the same key gets its true answer;
 * THROTTLED: nothing was written). Never a new key: that would be another change.
 */
const RESEND_STATUSES = new Set([500, 502, 503, 504]);

/** Sends of one write before the client gives up on a lost or failed answer. */
export const WRITE_SENDS = 3;

const etagOf = (headers: Headers): number | undefined => versionOfEtag(headers.get('etag'));

/**
 * A client for the HTTP API. Every write carries an Idempotency-Key made once for that
 * call: when its answer is lost (a network error) or a server error, the very same request
 * is sent again with the same key, so it is applied once and the repeat gets its first
 * answer. A new call is a new intended change, with a new key.
 */
export interface ClientOptions {
  baseUrl: string;
  token: string;
  resendDelayMs?: number;
  /** The fetch to send with (the platform's by default). */
  fetch?: typeof fetch;
}

export const createApiClient = (options: ClientOptions) => {
  const fetchOf = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const once = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const response = await fetchOf(`${options.baseUrl}${path}`, {
      method,
      // A browser would revalidate with an If-None-Match of its own and hand back its cached
      // copy on 304; the version is the ETag, but a lock can change without it. This client
      // asks for revalidation itself, when the caller says so.
      // (Node's fetch takes it too; its RequestInit type does not name it.)
      ...({ cache: 'no-store' } as RequestInit),
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
      isWrite && !('idempotency-key' in headers)
        ? { 'idempotency-key': globalThis.crypto.randomUUID(), ...headers }
        : headers;
    let answer: Awaited<ReturnType<typeof once>> | undefined;
    for (let sent = 1; ; sent += 1) {
      let retryAfterMs = 0;
      try {
        answer = await once(method, path, body, keyed);
        if (!isWrite || !RESEND_STATUSES.has(answer.status) || sent >= WRITE_SENDS) break;
        retryAfterMs = 1000 * Number(answer.headers.get('retry-after') ?? 0) || 0;
      } catch (error) {
        if (!isWrite || sent >= WRITE_SENDS) throw error;
      }
      // As long as the server asked (Retry-After), unless the caller set the pace.
      const delay = options.resendDelayMs ?? Math.max(100, retryAfterMs);
      await new Promise((resolve) =>
        setTimeout(resolve, delay * (options.resendDelayMs === undefined ? 1 : sent)),
      );
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
    const applied = /^\d+$/.exec(answer.headers.get('applied-version') ?? '')?.[0];
    return {
      status: answer.status,
      body: parsed as T,
      ...(etag === undefined ? {} : { etag }),
      replayed: answer.headers.get('idempotent-replayed') === 'true',
      ...(applied === undefined ? {} : { appliedVersion: Number(applied) }),
    };
  };

  /** The body of an answer that cannot be 304. */
  const request = async <T>(method: string, path: string, requestOptions: RequestOptions = {}): Promise<T> =>
    ((await send<T>(method, path, requestOptions)) as Answer<T>).body;

  const bodyOf = async <T>(answer: Promise<Answer<T> | NotModified>): Promise<T> =>
    ((await answer) as Answer<T>).body;

  /** Any route of the document by its key, typed from its schemas. */
  const call = <K extends RouteKey>(key: K, ...[callOptions]: CallArguments<K>): Promise<CallAnswer<K>> => {
    const { params, body, query, headers = {}, ...named } = (callOptions ?? {}) as CallOptions<K>;
    const [method = 'GET', template = ''] = key.split(' ');
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = (params as Record<string, string> | undefined)?.[name];
      if (value === undefined) throw new TypeError(`${key} needs the path parameter ${name}.`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams(
      Object.entries(query ?? {}).flatMap(([name, value]) =>
        value === undefined ? [] : [[name, String(value)] as [string, string]],
      ),
    ).toString();
    return send(method, search ? `${path}?${search}` : path, {
      body,
      headers: {
        ...(named.ifMatch === undefined ? {} : { 'if-match': `"${named.ifMatch}"` }),
        ...(named.ifNoneMatch === undefined ? {} : { 'if-none-match': `"${named.ifNoneMatch}"` }),
        ...(named.lockToken === undefined ? {} : { 'lock-token': named.lockToken }),
        ...(named.idempotencyKey === undefined ? {} : { 'idempotency-key': named.idempotencyKey }),
        ...headers,
      },
    }) as Promise<CallAnswer<K>>;
  };

  return {
    send,
    request,
    call,
    // Named helpers for the common calls: the body of the answer. A write takes the
    // Idempotency-Key of the change it makes (`intent`, as updateWithRetry hands it out), so
    // that sending it again is the same request; without one, each call is a new change.
    createAnnotation: (fields: RequestBody<'POST /annotations'>, intent?: KeyOption) =>
      bodyOf(call('POST /annotations', { body: fields, ...intent })),
    getAnnotation: (id: string) => bodyOf(call('GET /annotations/{id}', { params: { id } })),
    patchAnnotation: (
      id: string,
      version: number,
      patch: RequestBody<'PATCH /annotations/{id}'>,
      intent?: KeyOption,
    ) =>
      bodyOf(call('PATCH /annotations/{id}', { params: { id }, ifMatch: version, body: patch, ...intent })),
    replaceAnnotation: (
      id: string,
      version: number,
      fields: RequestBody<'PUT /annotations/{id}'>,
      intent?: KeyOption,
    ) => bodyOf(call('PUT /annotations/{id}', { params: { id }, ifMatch: version, body: fields, ...intent })),
    createOrder: (input: RequestBody<'POST /orders'>, intent?: KeyOption) =>
      bodyOf(call('POST /orders', { body: input, ...intent })),
    getOrder: (id: string) => bodyOf(call('GET /orders/{id}', { params: { id } })),
    addLine: (
      id: string,
      version: number,
      line: RequestBody<'POST /orders/{id}/lines'>,
      intent?: KeyOption,
    ) => bodyOf(call('POST /orders/{id}/lines', { params: { id }, ifMatch: version, body: line, ...intent })),
    patchLine: (
      id: string,
      lineId: string,
      version: number,
      patch: RequestBody<'PATCH /orders/{id}/lines/{lineId}'>,
      intent?: KeyOption,
    ) =>
      bodyOf(
        call('PATCH /orders/{id}/lines/{lineId}', {
          params: { id, lineId },
          ifMatch: version,
          body: patch,
          ...intent,
        }),
      ),
    transition: (id: string, version: number, to: Order['status'], intent?: KeyOption) =>
      bodyOf(
        call('POST /orders/{id}/transitions', { params: { id }, ifMatch: version, body: { to }, ...intent }),
      ),
  };
};

export type ApiClient = ReturnType<typeof createApiClient>;
