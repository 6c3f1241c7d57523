import type { ErrorCode } from '../problems';

/**
 * What each code means wherever it is answered: the description of every response that
 * carries it. What one operation adds (its own conditions) is in that operation's rules.
 */
export const problemWhen: Record<ErrorCode, string> = {
  MALFORMED_REQUEST:
    'a header or query parameter outside its schema, a body that is not UTF-8 JSON (or nests deeper than 64), or a rule of the operation',
  IDEMPOTENCY_KEY_REQUIRED: 'no `Idempotency-Key`',
  UNAUTHENTICATED: 'no token, or a bad, expired or misaddressed one',
  FORBIDDEN: "the caller's roles do not allow it",
  NOT_FOUND: 'no such record or line (an id outside its pattern included)',
  METHOD_NOT_ALLOWED: 'a method the path does not take: `Allow`',
  STALE_DATA: 'the version the change is based on is stale: `current`, its ETag',
  ALREADY_EXISTS: 'the key is taken',
  INVALID_STATE: "not allowed in the record's state",
  INSUFFICIENT_FUNDS: 'the balance does not cover it: `current`',
  INSUFFICIENT_STOCK: 'the stock does not cover it: `current`',
  PARTIAL_CONFLICT: 'some field groups conflicted: `groups`, `record`',
  WRITE_CONTENTION: 'writes kept colliding; nothing written',
  LOCK_LOST: 'the `Lock-Token` is no longer current',
  IDEMPOTENCY_IN_PROGRESS: 'the same keyed request is still running',
  GONE: 'deleted: `deletedAt`, `deletedBy`',
  PAYLOAD_TOO_LARGE: 'a body over 256 KiB',
  UNSUPPORTED_MEDIA_TYPE: 'a body not of a media type the operation lists',
  VALIDATION_FAILED: 'the body breaks its schema or a rule of the operation: `errors`',
  TOO_MANY_CHANGES: 'more than 100 writes in one transaction',
  IDEMPOTENCY_KEY_REUSED: 'the key was used for another request',
  LOCKED: 'another user holds the lock: `lock`',
  PRECONDITION_REQUIRED: 'no `If-Match` and no body `version`',
  THROTTLED: 'the database kept throttling; nothing written',
  OUTCOME_UNKNOWN: 'it may or may not have been applied: repeat it with its key, or read first',
  INTERNAL: 'anything else',
};
