import { etagOf } from './etag';
import { AppError, type FieldError } from './problems';

/**
 * Typed domain errors. lib throws them; the one error middleware in lib/http turns them
 * into problem+json. Each carries its stable code and HTTP status, and only the extension
 * members the contract names.
 */

/** The header that tells a client when to try again, in whole seconds. */
const retryAfter = (seconds: number) => ({ 'Retry-After': String(seconds) });

/** An answer that carries a record carries its ETag. */
const etagHeader = (record: Record<string, unknown>) => ({ ETag: etagOf(Number(record.version)) });

export class MalformedRequestError extends AppError {
  constructor(detail: string) {
    super('MALFORMED_REQUEST', detail);
  }
}

export class IdempotencyKeyRequiredError extends AppError {
  constructor() {
    super('IDEMPOTENCY_KEY_REQUIRED', 'This route moves money or stock and needs an Idempotency-Key header.');
  }
}

export class UnauthenticatedError extends AppError {
  constructor(detail = 'A valid bearer token is required.') {
    super('UNAUTHENTICATED', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = 'Your roles do not allow this.') {
    super('FORBIDDEN', detail);
  }
}

export class NotFoundError extends AppError {
  constructor(detail = 'No such record.') {
    super('NOT_FOUND', detail);
  }
}

export class GoneError extends AppError {
  constructor(
    readonly deletedAt: string,
    readonly deletedBy: string,
  ) {
    super('GONE', 'The record was deleted.', { extensions: { deletedAt, deletedBy } });
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
    options: {
      changeAlreadyPresent?: boolean;
      /** 412 when the stale version came in `If-Match`, 409 when in the body. */
      status?: 409 | 412;
    } = {},
  ) {
    const changeAlreadyPresent = options.changeAlreadyPresent ?? false;
    super(
      'STALE_DATA',
      changeAlreadyPresent
        ? 'The record was changed by someone else, who already stored this very change. Review the current version.'
        : 'The record was changed by someone else. Review the current version and try again.',
      {
        extensions: { current, ...(changeAlreadyPresent ? { changeAlreadyPresent: true } : {}) },
        headers: etagHeader(current),
        status: options.status ?? 409,
      },
    );
    this.changeAlreadyPresent = changeAlreadyPresent;
  }

  /** The same conflict with a fuller `current` (an order with its lines) or more it knows. */
  withCurrent(
    current: { version: number } & Record<string, unknown>,
    options: { changeAlreadyPresent?: boolean } = {},
  ): StaleDataError {
    return new StaleDataError(current, {
      changeAlreadyPresent: this.changeAlreadyPresent || (options.changeAlreadyPresent ?? false),
      status: this.status as 409 | 412,
    });
  }
}

export class AlreadyExistsError extends AppError {
  constructor(detail = 'A record with this key exists already.') {
    super('ALREADY_EXISTS', detail);
  }
}

export class InvalidStateError extends AppError {
  constructor(detail: string, extensions: Record<string, unknown> = {}) {
    super('INVALID_STATE', detail, { extensions });
  }
}

export class WriteContentionError extends AppError {
  constructor(retryAfterSeconds = 1) {
    super('WRITE_CONTENTION', 'Concurrent writes kept colliding. Try again shortly.', {
      headers: retryAfter(retryAfterSeconds),
    });
  }
}

export class ThrottledError extends AppError {
  constructor(retryAfterSeconds = 1) {
    super('THROTTLED', 'The database is busy. Try again shortly.', {
      headers: retryAfter(retryAfterSeconds),
    });
  }
}

/**
 * The request may or may not have been applied: an answer was lost and the check of it failed
 * too, a transaction of this request was still in progress past every retry, or a retry came
 * after its own earlier attempt could no longer be recognised. Never a guess: repeating the
 * request with the same Idempotency-Key gives its true answer; without one, read the record.
 */
export class OutcomeUnknownError extends AppError {
  constructor(retryAfterSeconds = 1) {
    super(
      'OUTCOME_UNKNOWN',
      'The request may or may not have been applied. Repeat it with the same Idempotency-Key to get its answer; without a key, read the record before deciding.',
      { headers: retryAfter(retryAfterSeconds) },
    );
  }
}

/** A path that exists, with a method it does not take; `Allow` lists those it takes. */
export class MethodNotAllowedError extends AppError {
  constructor(allowed: readonly string[]) {
    super('METHOD_NOT_ALLOWED', `This path takes ${allowed.join(', ')}.`, {
      headers: { Allow: allowed.join(', ') },
    });
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super('PAYLOAD_TOO_LARGE', `The body must not exceed ${limitBytes} bytes.`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(accepted: readonly string[]) {
    super('UNSUPPORTED_MEDIA_TYPE', `Send the body as ${accepted.join(' or ')}.`);
  }
}

export class ValidationError extends AppError {
  constructor(readonly errors: FieldError[]) {
    super('VALIDATION_FAILED', 'The request does not match the schema.', {
      extensions: { errors },
    });
  }
}

export class TooManyChangesError extends AppError {
  constructor(...args: [count: number, limit: number] | [detail: string]) {
    super(
      'TOO_MANY_CHANGES',
      args.length === 1
        ? args[0]
        : `The request would write ${args[0]} items; one atomic request writes at most ${args[1]}.`,
    );
  }
}

export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request.');
  }
}

export class IdempotencyInProgressError extends AppError {
  constructor() {
    super('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still running.', {
      headers: retryAfter(1),
    });
  }
}

export class PreconditionRequiredError extends AppError {
  constructor() {
    super(
      'PRECONDITION_REQUIRED',
      'Say which version the change is based on: If-Match: "<version>" or "version" in the body.',
    );
  }
}

/** One item of an atomic batch failed, so nothing was written; `results` names each failing id. */
export class BatchRejectedError extends AppError {
  constructor(first: AppError, results: unknown[]) {
    super(first.code, 'No update of the atomic batch was applied.', {
      extensions: { results },
      status: first.status,
    });
  }
}

/** Another user holds an unexpired lock on the record. */
export class LockedError extends AppError {
  constructor(lock: { owner: string; expiresAt: string }, retryAfterSeconds: number) {
    super('LOCKED', `${lock.owner} holds the lock on this record until ${lock.expiresAt}.`, {
      extensions: { lock },
      headers: retryAfter(Math.max(1, retryAfterSeconds)),
    });
  }
}

/** The lock token is no longer the current one: it expired, was released, broken or taken over. */
export class LockLostError extends AppError {
  constructor(detail = 'This lock token is no longer current. Acquire the lock again.') {
    super('LOCK_LOST', detail);
  }
}

/** A withdrawal or debit would take a balance below zero; carries the record as it is now. */
export class InsufficientFundsError extends AppError {
  constructor(current: Record<string, unknown>) {
    super('INSUFFICIENT_FUNDS', 'The balance does not cover this amount.', {
      extensions: { current },
      headers: etagHeader(current),
    });
  }
}

/** A stock movement would take the stock below zero; carries the record as it is now. */
export class InsufficientStockError extends AppError {
  constructor(current: Record<string, unknown>) {
    super('INSUFFICIENT_STOCK', 'The stock does not cover this movement.', {
      extensions: { current },
      headers: etagHeader(current),
    });
  }
}

/** Some field groups of a PATCH conflicted; the others stay applied. */
export class PartialConflictError extends AppError {
  constructor(groups: Record<string, unknown>, record: { version: number }) {
    super('PARTIAL_CONFLICT', 'Some field groups were changed by someone else; the others were applied.', {
      extensions: { groups, record },
      headers: etagHeader(record),
    });
  }
}
