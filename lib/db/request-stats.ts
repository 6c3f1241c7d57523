import { AsyncLocalStorage } from 'node:async_hooks';

/** What one HTTP request met on its way to DynamoDB: counted where it happens, logged once. */
export interface RequestStats {
  /** Requests sent (one per command, the SDK's own retries not counted). */
  dynamodbRequests: number;
  /** Writes sent again because a transaction held their items. */
  contentionRetries: number;
  /** Attempts DynamoDB throttled (the SDK retries them; the last of its attempts is a 503). */
  throttledAttempts: number;
  /** The cause of an internal error, for the request's log line, never for the answer. */
  cause?: string;
}

const storage = new AsyncLocalStorage<RequestStats>();

/**
 * Runs `fn` with its own stats: every request made on its behalf, however many are in
 * flight in the process at once (the local server runs them all in one), counts here.
 */
export const withRequestStats = async <T>(
  fn: () => Promise<T>,
): Promise<{ result: T; stats: RequestStats }> => {
  const stats: RequestStats = { dynamodbRequests: 0, contentionRetries: 0, throttledAttempts: 0 };
  const result = await storage.run(stats, fn);
  return { result, stats };
};

/** Notes one occurrence on the current request's stats; outside a request, nothing. */
export const note = (what: 'dynamodbRequests' | 'contentionRetries' | 'throttledAttempts'): void => {
  const stats = storage.getStore();
  if (stats) stats[what] += 1;
};

/** Keeps the cause of the current request's internal error for its log line. */
export const noteCause = (cause: string): void => {
  const stats = storage.getStore();
  if (stats) stats.cause = cause;
};
