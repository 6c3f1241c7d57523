/**
 * Every problem the API answers: its code, HTTP status and title, in one table that the
 * error classes below, the problem+json writer and the OpenAPI document all read.
 * STALE_DATA is 412 for a stale `If-Match` and 409 for a stale body version: the
 * precondition that was stale says which (`StaleDataError`).
 */
export const problemCatalog = {
  MALFORMED_REQUEST: { statuses: [400], title: 'Malformed request' },
  IDEMPOTENCY_KEY_REQUIRED: { statuses: [400], title: 'Idempotency-Key required' },
  UNAUTHENTICATED: { statuses: [401], title: 'Unauthenticated' },
  FORBIDDEN: { statuses: [403], title: 'Forbidden' },
  NOT_FOUND: { statuses: [404], title: 'Not found' },
  METHOD_NOT_ALLOWED: { statuses: [405], title: 'Method not allowed' },
  STALE_DATA: { statuses: [409, 412], title: 'Stale data' },
  ALREADY_EXISTS: { statuses: [409], title: 'Already exists' },
  INVALID_STATE: { statuses: [409], title: 'Invalid state' },
  INSUFFICIENT_FUNDS: { statuses: [409], title: 'Insufficient funds' },
  INSUFFICIENT_STOCK: { statuses: [409], title: 'Insufficient stock' },
  PARTIAL_CONFLICT: { statuses: [409], title: 'Partial conflict' },
  WRITE_CONTENTION: { statuses: [409], title: 'Write contention' },
  LOCK_LOST: { statuses: [409], title: 'Lock lost' },
  IDEMPOTENCY_IN_PROGRESS: { statuses: [409], title: 'Request in progress' },
  GONE: { statuses: [410], title: 'Gone' },
  PAYLOAD_TOO_LARGE: { statuses: [413], title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { statuses: [415], title: 'Unsupported media type' },
  VALIDATION_FAILED: { statuses: [422], title: 'Validation failed' },
  TOO_MANY_CHANGES: { statuses: [422], title: 'Too many changes' },
  IDEMPOTENCY_KEY_REUSED: { statuses: [422], title: 'Idempotency-Key reused' },
  LOCKED: { statuses: [423], title: 'Locked' },
  PRECONDITION_REQUIRED: { statuses: [428], title: 'Precondition required' },
  THROTTLED: { statuses: [503], title: 'Throttled' },
  OUTCOME_UNKNOWN: { statuses: [503], title: 'Outcome unknown' },
  INTERNAL: { statuses: [500], title: 'Internal error' },
} as const satisfies Record<string, { statuses: readonly number[]; title: string }>;

export type ErrorCode = keyof typeof problemCatalog;

/** The codes whose answers say when to try again (`Retry-After`). */
export const retryAfterCodes: readonly ErrorCode[] = [
  'WRITE_CONTENTION',
  'IDEMPOTENCY_IN_PROGRESS',
  'LOCKED',
  'THROTTLED',
  'OUTCOME_UNKNOWN',
];

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

  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    detail: string,
    options: {
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
      /** For a code with more than one status (STALE_DATA), which one. */
      status?: number;
    } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status ?? problemCatalog[code].statuses[0];
    this.title = problemCatalog[code].title;
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
    super('INTERNAL', 'Something went wrong on our side.');
  }
}
