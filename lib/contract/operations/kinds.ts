import type { z } from 'zod';
import { invalidCursorError } from '../../core/build/cursor';
import { DISAGREEING_PRECONDITIONS } from '../../http/request';
import type { ErrorCode } from '../../problems';

/** The headers an operation takes or answers beyond the common ones. */
export type HeaderUse =
  | 'if-match'
  | 'if-none-match'
  | 'idempotency-key'
  | 'idempotency-key-required'
  | 'lock-token'
  | 'lock-token-required';

/**
 * A refusal no schema of the document can say: it depends on what is stored (a version, a
 * lock, a key, a record's state) or relates values the schemas check one by one. The
 * document states each in the operation's description and as `x-rules`.
 */
export interface Rule {
  readonly status: number;
  readonly code: ErrorCode;
  /** When it is answered. */
  readonly when: string;
  /** For a 422: the JSON Pointer it names, `*` standing for any one member or index. */
  readonly pointer?: string;
  /** For a 400: its exact `detail`. */
  readonly detail?: string;
}

/** What the document says of one route: its bodies, its success and the codes it may answer. */
export interface Operation {
  summary: string;
  body?: z.ZodType;
  /** The listing query `?limit&cursor`. */
  paged?: boolean;
  /** A resource's list: `?q=` keeps the items whose named field holds it. */
  search?: string;
  success: {
    status: number;
    body?: z.ZodType;
    etag?: boolean;
    location?: boolean;
    /** A change answering the record it leaves: `Applied-Version` where that is the record as others left it since. */
    appliedVersion?: boolean;
  };
  headers?: readonly HeaderUse[];
  errors: readonly ErrorCode[];
  /** The refusals its schemas cannot say. */
  rules?: readonly Rule[];
}

const auth: ErrorCode[] = ['UNAUTHENTICATED', 'NOT_FOUND', 'THROTTLED', 'INTERNAL'];
export const roles: ErrorCode[] = ['FORBIDDEN'];
const body: ErrorCode[] = [
  'MALFORMED_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'VALIDATION_FAILED',
];
// Every write may find that it cannot know whether it was applied: OUTCOME_UNKNOWN.
// A keyed request may meet its own repeat still running: IDEMPOTENCY_IN_PROGRESS.
const keyed: ErrorCode[] = [
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_IN_PROGRESS',
  'WRITE_CONTENTION',
  'MALFORMED_REQUEST',
  'OUTCOME_UNKNOWN',
];
// A Lock-Token that is no longer current: 423 while another user holds the lock, else LOCK_LOST.
const versioned: ErrorCode[] = [
  'STALE_DATA',
  'PRECONDITION_REQUIRED',
  'GONE',
  'LOCKED',
  'LOCK_LOST',
  'MALFORMED_REQUEST',
];
export const read: ErrorCode[] = [...auth, 'GONE', 'MALFORMED_REQUEST'];
export const change = (...more: ErrorCode[]): ErrorCode[] => [
  ...new Set([...auth, ...body, ...keyed, ...versioned, ...more]),
];
export const create = (...more: ErrorCode[]): ErrorCode[] => [
  ...new Set([...auth, ...body, ...keyed, ...more]),
];
export const money = (...more: ErrorCode[]): ErrorCode[] => [
  ...new Set([
    ...auth,
    ...roles,
    ...body,
    ...keyed,
    'IDEMPOTENCY_KEY_REQUIRED' as const,
    'GONE' as const,
    ...more,
  ]),
];

/**
 * The request schemas are zod/mini (a fraction of the classic API in each Lambda bundle);
 * the document and the typed client read them through the classic type, as both share
 * zod's core, which parses and converts them alike.
 */
export const asSchema = <S extends z.core.$ZodType>(schema: S) =>
  schema as unknown as z.ZodType<z.output<S>, z.input<S>>;

export const record = <S extends z.ZodType>(schema: S, status = 200) => ({
  status,
  body: schema,
  etag: true,
});
/** A change answered with the record it leaves. */
export const changed = <S extends z.ZodType>(schema: S) => ({ ...record(schema), appliedVersion: true });
export const writeHeaders: HeaderUse[] = ['if-match', 'idempotency-key', 'lock-token'];

/** The rules of one record's read or change: it never existed, or was deleted. */
export const existing: Rule[] = [
  { status: 404, code: 'NOT_FOUND', when: 'no record (or line) has this id' },
  { status: 410, code: 'GONE', when: 'the record was deleted (for 35 days; `deletedAt`, `deletedBy`)' },
];

/** The rules of a change to a versioned record: its precondition and its lock. */
export const preconditionRules: Rule[] = [
  ...existing,
  { status: 428, code: 'PRECONDITION_REQUIRED', when: 'neither `If-Match` nor a body `version` is sent' },
  {
    status: 400,
    code: 'MALFORMED_REQUEST',
    detail: DISAGREEING_PRECONDITIONS,
    when: '`If-Match` and a body `version` are both sent and differ (`If-Match: *` with a body `version` too)',
  },
  {
    status: 412,
    code: 'STALE_DATA',
    when: '`If-Match` is not the stored version (or is weak, or no ETag of this API): `current` and its ETag; `changeAlreadyPresent` when the stored record already holds this change',
  },
  { status: 409, code: 'STALE_DATA', when: 'the body `version` is not the stored one: as for 412' },
  {
    status: 423,
    code: 'LOCKED',
    when: 'another user holds an unexpired lock, and the request has not its `Lock-Token`: `lock`, `Retry-After`',
  },
  {
    status: 409,
    code: 'LOCK_LOST',
    when: 'the `Lock-Token` sent is no longer current (broken, taken over, released, expired) and no other user holds the lock',
  },
];

/** The rules of `Idempotency-Key`, on every route that takes one. */
export const keyRules: Rule[] = [
  {
    status: 422,
    code: 'IDEMPOTENCY_KEY_REUSED',
    when: 'the caller used this key within 24 h for another request (method, path, body or `If-Match`); the same request gets its first answer again, with `Idempotent-Replayed: true`',
  },
  {
    status: 409,
    code: 'IDEMPOTENCY_IN_PROGRESS',
    when: 'the same request under this key is still running: `Retry-After`',
  },
];

/** The rules of a listing's query. */
export const pageRules: Rule[] = [
  {
    status: 400,
    code: 'MALFORMED_REQUEST',
    detail: invalidCursorError().message,
    when: 'a `cursor` this API did not hand out, or one a search with another `q` handed out',
  },
  { status: 400, code: 'MALFORMED_REQUEST', when: 'a query parameter this operation does not list' },
];

/** Counters (balances, stock) stay within ±10^15: a movement past that is 422 at its amount. */
export const counterRule = (pointer: string): Rule => ({
  status: 422,
  code: 'VALIDATION_FAILED',
  pointer,
  when: 'the balance or stock would pass ±10^15',
});

/** The role rule of a route whose roles depend on what it does. */
export const roleRule = (when: string): Rule => ({ status: 403, code: 'FORBIDDEN', when });
