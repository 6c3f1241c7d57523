/**
 * Typed domain errors. lib throws them; the one error middleware in lib/http turns them
 * into problem+json. Each carries its stable code and HTTP status, and only the extension
 * members the contract names.
 */

export type ErrorCode =
  | 'MALFORMED_REQUEST'
  | 'IDEMPOTENCY_KEY_REQUIRED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'STALE_DATA'
  | 'ALREADY_EXISTS'
  | 'INVALID_STATE'
  | 'INSUFFICIENT_FUNDS'
  | 'INSUFFICIENT_STOCK'
  | 'PARTIAL_CONFLICT'
  | 'WRITE_CONTENTION'
  | 'LOCK_LOST'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'GONE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'VALIDATION_FAILED'
  | 'TOO_MANY_CHANGES'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'LOCKED'
  | 'PRECONDITION_REQUIRED'
  | 'THROTTLED'
  | 'INTERNAL';

/** The header that tells a client when to try again, in whole seconds. */
const retryAfter = (seconds: number) => ({ 'Retry-After': String(seconds) });

/** A version as its ETag: `"3"`. */
export const etagOf = (version: number): string => `"${version}"`;

/** An answer that carries a record carries its ETag. */
const etagHeader = (record: Record<string, unknown>) => ({ ETag: etagOf(Number(record.version)) });

export interface FieldError {
  /** JSON Pointer (RFC 6901) into the request body. */
  pointer: string;
  detail: string;
}

export class AppError extends Error {
  /** Members added to the problem document (`current`, `errors`, `results`, ...). */
  readonly extensions: Record<string, unknown>;
  /** Response headers the answer must carry (`Retry-After`, `ETag`). */
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    readonly title: string,
    detail: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  /** Whether an unknown value is an AppError of one of the given codes. */
  static is(value: unknown, ...codes: ErrorCode[]): value is AppError {
    return value instanceof AppError && (codes.length === 0 || codes.includes(value.code));
  }
}

/** Anything that is not an AppError, as the answer shows it: nothing of what failed. */
export class InternalError extends AppError {
  constructor() {
    super('INTERNAL', 500, 'Internal error', 'Something went wrong on our side.');
  }
}

export class MalformedRequestError extends AppError {
  constructor(detail: string) {
    super('MALFORMED_REQUEST', 400, 'Malformed request', detail);
  }
}

export class IdempotencyKeyRequiredError extends AppError {
  constructor() {
    super(
      'IDEMPOTENCY_KEY_REQUIRED',
      400,
      'Idempotency-Key required',
      'This route moves money or stock and needs an Idempotency-Key header.',
    );
  }
}

export class UnauthenticatedError extends AppError {
  constructor(detail = 'A valid bearer token is required.') {
    super('UNAUTHENTICATED', 401, 'Unauthenticated', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = 'Your roles do not allow this.') {
    super('FORBIDDEN', 403, 'Forbidden', detail);
  }
}

export class NotFoundError extends AppError {
  constructor(detail = 'No such record.') {
    super('NOT_FOUND', 404, 'Not found', detail);
  }
}

export class GoneError extends AppError {
  constructor(
    readonly deletedAt: string,
    readonly deletedBy: string,
  ) {
    super('GONE', 410, 'Gone', 'The record was deleted.', { extensions: { deletedAt, deletedBy } });
  }
}

/**
 * The record changed since the version the caller based its change on. Carries the record
 * as it is now, so the caller can show it and retry without another read, and says when
 * the change asked for is stored already, written by someone else (`changeAlreadyPresent`):
 * still a conflict, as the change may have been derived from stale data, but one a client
 * can show as "already saved by someone else".
 */
export class StaleDataError extends AppError {
  readonly changeAlreadyPresent: boolean;

  constructor(
    readonly current: { version: number } & Record<string, unknown>,
    options: { changeAlreadyPresent?: boolean } = {},
  ) {
    const changeAlreadyPresent = options.changeAlreadyPresent ?? false;
    super(
      'STALE_DATA',
      409,
      'Stale data',
      changeAlreadyPresent
        ? 'The record was changed by someone else, who already stored this very change. Review the current version.'
        : 'The record was changed by someone else. Review the current version and try again.',
      {
        extensions: { current, ...(changeAlreadyPresent ? { changeAlreadyPresent: true } : {}) },
        headers: etagHeader(current),
      },
    );
    this.changeAlreadyPresent = changeAlreadyPresent;
  }

  /** The same conflict with a fuller `current` (an order with its lines). */
  withCurrent(current: { version: number } & Record<string, unknown>): StaleDataError {
    return new StaleDataError(current, { changeAlreadyPresent: this.changeAlreadyPresent });
  }
}

export class AlreadyExistsError extends AppError {
  constructor(detail = 'A record with this key exists already.') {
    super('ALREADY_EXISTS', 409, 'Already exists', detail);
  }
}

export class InvalidStateError extends AppError {
  constructor(detail: string, extensions: Record<string, unknown> = {}) {
    super('INVALID_STATE', 409, 'Invalid state', detail, { extensions });
  }
}

export class WriteContentionError extends AppError {
  constructor(retryAfterSeconds = 1) {
    super(
      'WRITE_CONTENTION',
      409,
      'Write contention',
      'Concurrent writes kept colliding. Try again shortly.',
      { headers: retryAfter(retryAfterSeconds) },
    );
  }
}

export class ThrottledError extends AppError {
  constructor(retryAfterSeconds = 1) {
    super('THROTTLED', 503, 'Throttled', 'The database is busy. Try again shortly.', {
      headers: retryAfter(retryAfterSeconds),
    });
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super('PAYLOAD_TOO_LARGE', 413, 'Payload too large', `The body must not exceed ${limitBytes} bytes.`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(accepted: readonly string[]) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      'Unsupported media type',
      `Send the body as ${accepted.join(' or ')}.`,
    );
  }
}

export class ValidationError extends AppError {
  constructor(readonly errors: FieldError[]) {
    super('VALIDATION_FAILED', 422, 'Validation failed', 'The request does not match the schema.', {
      extensions: { errors },
    });
  }
}

export class TooManyChangesError extends AppError {
  constructor(...args: [count: number, limit: number] | [detail: string]) {
    super(
      'TOO_MANY_CHANGES',
      422,
      'Too many changes',
      args.length === 1
        ? args[0]
        : `The request would write ${args[0]} items; one atomic request writes at most ${args[1]}.`,
    );
  }
}

export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      422,
      'Idempotency-Key reused',
      'This Idempotency-Key was used with another request.',
    );
  }
}

export class IdempotencyInProgressError extends AppError {
  constructor() {
    super(
      'IDEMPOTENCY_IN_PROGRESS',
      409,
      'Request in progress',
      'A request with this Idempotency-Key is still running.',
      { headers: retryAfter(1) },
    );
  }
}

export class PreconditionRequiredError extends AppError {
  constructor() {
    super(
      'PRECONDITION_REQUIRED',
      428,
      'Precondition required',
      'Say which version the change is based on: If-Match: "<version>" or "version" in the body.',
    );
  }
}

/** One item of an atomic batch failed, so nothing was written; `results` names each failing id. */
export class BatchRejectedError extends AppError {
  constructor(first: AppError, results: unknown[]) {
    super(first.code, first.status, first.title, 'No update of the atomic batch was applied.', {
      extensions: { results },
    });
  }
}

/** Another user holds an unexpired lock on the record. */
export class LockedError extends AppError {
  constructor(lock: { owner: string; expiresAt: string }, retryAfterSeconds: number) {
    super('LOCKED', 423, 'Locked', `${lock.owner} holds the lock on this record until ${lock.expiresAt}.`, {
      extensions: { lock },
      headers: retryAfter(Math.max(1, retryAfterSeconds)),
    });
  }
}

/** The lock token is no longer the current one: it expired, was released, broken or taken over. */
export class LockLostError extends AppError {
  constructor(detail = 'This lock token is no longer current. Acquire the lock again.') {
    super('LOCK_LOST', 409, 'Lock lost', detail);
  }
}

/** A withdrawal or debit would take a balance below zero; carries the record as it is now. */
export class InsufficientFundsError extends AppError {
  constructor(current: Record<string, unknown>) {
    super('INSUFFICIENT_FUNDS', 409, 'Insufficient funds', 'The balance does not cover this amount.', {
      extensions: { current },
      headers: etagHeader(current),
    });
  }
}

/** A stock movement would take the stock below zero; carries the record as it is now. */
export class InsufficientStockError extends AppError {
  constructor(current: Record<string, unknown>) {
    super('INSUFFICIENT_STOCK', 409, 'Insufficient stock', 'The stock does not cover this movement.', {
      extensions: { current },
      headers: etagHeader(current),
    });
  }
}

/** Some field groups of a PATCH conflicted; the others stay applied. */
export class PartialConflictError extends AppError {
  constructor(groups: Record<string, unknown>, record: { version: number }) {
    super(
      'PARTIAL_CONFLICT',
      409,
      'Partial conflict',
      'Some field groups were changed by someone else; the others were applied.',
      {
        extensions: { groups, record },
        headers: etagHeader(record),
      },
    );
  }
}
