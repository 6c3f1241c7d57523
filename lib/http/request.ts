import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { type Idempotency, idempotencyKeyHash, requestHashOf } from '../core/build/key-record';
import type { WriteContext } from '../core/build/records';
import type { Precondition } from '../core/build/version';
import {
  ForbiddenError,
  IdempotencyKeyRequiredError,
  MalformedRequestError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionRequiredError,
  UnsupportedMediaTypeError,
} from '../errors';
import { namesVersion, parseIfMatch } from '../etag';
import { bodyMediaTypes, type RouteSpec } from '../routes';
import type { Principal } from './principal';

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

/** Largest accepted body: 256 KiB, else 413. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * One request as handlers see it: the matched route, the caller, the parsed body and the
 * precondition and idempotency helpers. Knows HTTP, knows nothing of DynamoDB.
 */
export interface ApiRequest {
  event: ApiEvent;
  route: RouteSpec;
  principal: Principal;
  body: unknown;
  now: Date;
  requestId: string;
}

const header = (event: ApiEvent, name: string): string | undefined => event.headers?.[name] ?? undefined;

/** 403 unless the caller holds one of the route's roles. */
export const authorize = (route: RouteSpec, principal: Principal): void => {
  if (route.access === 'public' || route.access === 'any') return;
  if (!route.access.some((role) => principal.roles.includes(role))) throw new ForbiddenError();
};

/**
 * Deepest nesting of objects and arrays a body may have: far beyond any body this API takes
 * (they nest a few levels), far below where recursive JSON code (the idempotency hash, the
 * SDK's marshalling) runs out of stack, which a 256 KiB body of `[[[…]]]` would reach.
 */
export const MAX_BODY_DEPTH = 64;

/** Whether objects and arrays nest deeper than `limit` in `value`; iterative, so any depth is safe. */
const nestsDeeperThan = (value: unknown, limit: number): boolean => {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth > limit) return true;
    for (const inner of Object.values(next.value)) pending.push({ value: inner, depth: next.depth + 1 });
  }
  return false;
};

/** The JSON body, after the size, media-type, syntax and nesting checks every body passes. */
export const parseJsonBody = (event: ApiEvent): unknown => {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const accepted = bodyMediaTypes(event.routeKey);
  const mediaType = (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!accepted.includes(mediaType)) throw new UnsupportedMediaTypeError(accepted);
  let text: string;
  try {
    // Invalid UTF-8 is refused, never silently turned into U+FFFD.
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new MalformedRequestError('The body is not valid UTF-8.');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MalformedRequestError('The body is not valid JSON.');
  }
  if (nestsDeeperThan(body, MAX_BODY_DEPTH)) {
    throw new MalformedRequestError(
      `The body nests objects and arrays deeper than ${MAX_BODY_DEPTH} levels.`,
    );
  }
  return body;
};

/** The 400 for a request whose `If-Match` and body `version` disagree. */
export const DISAGREEING_PRECONDITIONS = 'If-Match and the body version disagree.';
/**
 * A well-formed tag that is none of this API's ETags ("0", "three") or a weak one (If-Match
 * compares strongly): it matches no version, so the write is refused as stale (412 with the
 * record as it is), as HTTP says, rather than called malformed. No version is 0.
 */
const MATCHES_NOTHING = 0;

/**
 * The version a change is based on, from `If-Match` or the body's `version`:
 * both and different is 400, neither is 428, `*` is an explicit overwrite.
 */
export const preconditionOf = (request: ApiRequest, bodyVersion: number | undefined): Precondition => {
  const ifMatch = header(request.event, 'if-match');
  let fromHeader: Precondition | undefined;
  if (ifMatch !== undefined) {
    const named = parseIfMatch(ifMatch);
    if (named === undefined) throw new MalformedRequestError('If-Match must be "*" or one ETag such as "3".');
    fromHeader =
      named === '*'
        ? { kind: 'any' }
        : { kind: 'version', version: named === 'none' ? MATCHES_NOTHING : named, source: 'header' };
  }
  if (fromHeader && bodyVersion !== undefined) {
    if (fromHeader.kind === 'any' || fromHeader.version !== bodyVersion) {
      throw new MalformedRequestError(DISAGREEING_PRECONDITIONS);
    }
  }
  if (fromHeader) return fromHeader;
  if (bodyVersion !== undefined) return { kind: 'version', version: bodyVersion, source: 'body' };
  throw new PreconditionRequiredError();
};

/** Whether `If-None-Match` already names this version, so a GET can answer 304. */
export const notModified = (request: ApiRequest, version: number): boolean => {
  const value = header(request.event, 'if-none-match');
  return value !== undefined && namesVersion(value, version);
};

/**
 * 1-255 printable ASCII characters, neither first nor last a space (HTTP strips those from a
 * header value, so no key could keep them).
 */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;

/**
 * The request's Idempotency-Key, scoped to the caller, with a hash of everything the
 * request asks for (route, path, body, precondition) to tell a replay from a reuse.
 */
export const idempotencyOf = (request: ApiRequest): Idempotency | undefined => {
  const key = header(request.event, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw new MalformedRequestError('Idempotency-Key must be 1-255 printable ASCII characters.');
  return {
    keyHash: idempotencyKeyHash(request.principal.sub, key),
    requestHash: requestHashOf({
      route: request.event.routeKey,
      path: request.event.rawPath,
      body: request.body ?? null,
      ifMatch: header(request.event, 'if-match') ?? null,
    }),
  };
};

/** Money and stock routes need a key: without it, 400 IDEMPOTENCY_KEY_REQUIRED. */
export const requiredIdempotencyOf = (request: ApiRequest): Idempotency => {
  const idempotency = idempotencyOf(request);
  if (!idempotency) throw new IdempotencyKeyRequiredError();
  return idempotency;
};

/** Ids this API makes or accepts (SKUs, line ids, account ids) are short and URL-safe. */
export const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** A path id; one that no record of this API can have is 404 before any database request. */
export const pathParameter = (request: ApiRequest, name: string): string => {
  const value = request.event.pathParameters?.[name];
  if (!value || !ID.test(value)) throw new NotFoundError();
  return value;
};

export const queryParameters = (request: ApiRequest): Record<string, string | undefined> =>
  request.event.queryStringParameters ?? {};

/** Who writes, when, and under which key: what every write in lib needs from the request. */
export const writeContextOf = (request: ApiRequest): WriteContext => ({
  actor: request.principal.sub,
  now: request.now,
  idempotency: idempotencyOf(request),
  lockToken: lockTokenOf(request),
});

export const LOCK_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** The `Lock-Token` header, if sent; a malformed one is 400. */
export const lockTokenOf = (request: ApiRequest): string | undefined => {
  const token = header(request.event, 'lock-token');
  if (token === undefined) return undefined;
  if (!LOCK_TOKEN.test(token))
    throw new MalformedRequestError('Lock-Token is not a token this API handed out.');
  return token;
};
