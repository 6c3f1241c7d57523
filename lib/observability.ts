/**
 * The names every function's structured logs and EMF metrics use, shared with the stack's
 * alarms and dashboard so the two cannot drift. No runtime code: CDK imports this.
 */
export const serviceName = 'no-lost-updates';
export const metricsNamespace = 'NoLostUpdates';

/** Count metrics, one data point per occurrence, dimension `service` (and more where noted). */
export const metricNames = {
  /** A 409 or 412 answer (STALE_DATA, WRITE_CONTENTION, LOCK_LOST…); also by route and code. */
  conflict: 'Conflict',
  /** An answer repeated from an Idempotency-Key's record. */
  replay: 'Replay',
  /** A write retried inside the request because a transaction held its items. */
  contentionRetry: 'ContentionRetry',
  /** A DynamoDB request retried by the SDK because it was throttled. */
  throttlingRetry: 'ThrottlingRetry',
  /** 423 LOCKED: another caller holds the record's lock. */
  lockRefused: 'LockRefused',
  /** 409 WRITE_CONTENTION: the retries ran out. */
  writeContention: 'WriteContention',
  /** 503 THROTTLED: throttling outlasted the SDK's retries. */
  throttled: 'Throttled',
  /** Any 5xx answer. */
  serverError: 'ServerError',
} as const;
