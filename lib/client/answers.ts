import type { z } from 'zod';
import type { operations, RouteKey } from '../contract/operations';
import type * as answers from '../contract/responses';

/** What the API answers, as the typed client reads it: its problems, and every route's types. */

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

type Operations = typeof operations;
/** An integer past 2^53 arrives as a bigint: an order's `total` may be one. */
type Exact<T> = T extends { total: number } ? Omit<T, 'total'> & { total: number | bigint } : T;
type Paged<T> = T extends { items: (infer I)[] } ? Omit<T, 'items'> & { items: Exact<I>[] } : Exact<T>;

/** The body a route takes, as the caller writes it. */
export type RequestBody<K extends RouteKey> = Operations[K] extends { body: infer S extends z.ZodType }
  ? z.input<S>
  : never;
/** The body of a route's success answer (`undefined` for 204). */
export type Reply<K extends RouteKey> = Operations[K]['success'] extends { body: infer S extends z.ZodType }
  ? Paged<z.output<S>>
  : undefined;

type PathOf<K> = K extends `${string} ${infer P}` ? P : never;
type ParamNames<P> = P extends `${string}{${infer N}}${infer Rest}` ? N | ParamNames<Rest> : never;
/** The path parameters of a route, e.g. `{ id, lineId }` for `/orders/{id}/lines/{lineId}`. */
export type PathParams<K extends RouteKey> = { [N in ParamNames<PathOf<K>>]: string };

/** The Idempotency-Key of one intended change, for the named helpers. */
export interface KeyOption {
  idempotencyKey: string;
}

/** What one call of a route sends beside its route key. */
export type CallOptions<K extends RouteKey> = {
  body?: RequestBody<K>;
  /** `If-Match: "<version>"`: the version the change was made against. */
  ifMatch?: number;
  /** `If-None-Match: "<version>"`: a GET answers 304 while that version is current. */
  ifNoneMatch?: number;
  lockToken?: string;
  /**
   * The write's Idempotency-Key. Without one, a key is made for this call; pass one to
   * make the same intended change again later (a retry after the page was reloaded).
   */
  idempotencyKey?: string;
  /** A listing's page size and cursor; on a resource's list, `q` searches its name. */
  query?: { limit?: number; cursor?: string; q?: string };
  headers?: Record<string, string>;
} & ([ParamNames<PathOf<K>>] extends [never] ? { params?: undefined } : { params: PathParams<K> });

export type CallArguments<K extends RouteKey> = [ParamNames<PathOf<K>>] extends [never]
  ? [options?: CallOptions<K>]
  : [options: CallOptions<K>];

/** A GET may answer 304; nothing else does. */
export type CallAnswer<K extends RouteKey> = K extends `GET ${string}`
  ? Answer<Reply<K>> | NotModified
  : Answer<Reply<K>>;

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
  /**
   * `Applied-Version: <n>`: this write was applied as version n, and the record has changed
   * since (the body and the ETag are the record as it is now).
   */
  appliedVersion?: number;
}

/** A GET answered 304: the copy the caller has is current. */
export interface NotModified {
  status: 304;
  notModified: true;
  etag?: number;
}

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
export const problemOf = (status: number, parsed: unknown): Problem => {
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
