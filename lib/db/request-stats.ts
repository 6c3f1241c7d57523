import { AsyncLocalStorage } from 'node:async_hooks';

/** What one HTTP request met on its way to DynamoDB: counted where it happens, logged once. */
export interface RequestStats {
  /** Requests sent, each attempt one (the SDK retries nothing: every retry is the core's, and counts). */
  dynamodbRequests: number;
  /** Writes sent again because a transaction held their items, or was still in progress. */
  contentionRetries: number;
  /** Attempts DynamoDB throttled (the core retries them; the last of its attempts is a 503). */
  throttledAttempts: number;
  /** The cause of an internal error, for the request's log line, never for the answer. */
  cause?: string;
}

/**
 * How long one attempt may be on its way before it is given up. It also bounds how long a
 * request given up on can still land: recognition windows that go by time (see
 * lib/core/attempts.ts) count on it.
 */
export const ATTEMPT_TIMEOUT_MS = 5000;

/**
 * How long one request may run, the most a Lambda function of the stack runs (its timeout),
 * less the time one attempt may take: no attempt is started that could still be on its way
 * when the request's time is up. Recognition windows that go by time count on it.
 */
export const REQUEST_TIME_MS = 10_000;

interface RequestScope {
  stats: RequestStats;
  /** `performance.now()` past which no attempt is started. */
  deadline: number;
}

const storage = new AsyncLocalStorage<RequestScope>();

/**
 * Runs `fn` with its own stats and its own deadline (`timeMs` from now, at most
 * REQUEST_TIME_MS): every request made on its behalf, however many are in flight in the
 * process at once (the local server runs them all in one), counts here.
 */
export const withRequestStats = async <T>(
  fn: () => Promise<T>,
  options: { timeMs?: number; attemptMs?: number } = {},
): Promise<{ result: T; stats: RequestStats }> => {
  const stats: RequestStats = { dynamodbRequests: 0, contentionRetries: 0, throttledAttempts: 0 };
  const time = Math.min(options.timeMs ?? REQUEST_TIME_MS, REQUEST_TIME_MS);
  const deadline = performance.now() + time - (options.attemptMs ?? 0);
  const result = await storage.run({ stats, deadline }, fn);
  return { result, stats };
};

/** Whether the current request's time is up for another attempt; outside a request, never. */
export const deadlineReached = (): boolean => {
  const scope = storage.getStore();
  return scope !== undefined && performance.now() >= scope.deadline;
};

/** Notes one occurrence on the current request's stats; outside a request, nothing. */
export const note = (what: 'dynamodbRequests' | 'contentionRetries' | 'throttledAttempts'): void => {
  const stats = storage.getStore()?.stats;
  if (stats) stats[what] += 1;
};

/** Keeps the cause of the current request's internal error for its log line. */
export const noteCause = (cause: string): void => {
  const stats = storage.getStore()?.stats;
  if (stats) stats.cause = cause;
};
