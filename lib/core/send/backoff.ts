export interface BackoffOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Ceiling of the first wait, in ms; it doubles with every attempt. */
  baseMs: number;
  /** Largest wait, in ms. */
  capMs: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
  /** Called before each retry, with the error that caused it. */
  onRetry?: (error: unknown) => void;
}

/** Full-jitter exponential backoff: a wait drawn uniformly from [0, min(cap, base·2^attempt)). */
export const fullJitterDelay = (attempt: number, options: BackoffOptions): number => {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** attempt);
  return Math.floor((options.random ?? Math.random)() * ceiling);
};

export const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, `shouldRetry` says no, or the attempts are used up;
 * waits with full jitter between attempts. The last error is thrown as it is.
 */
export const retryWithBackoff = async <T>(
  operation: (attempt: number) => Promise<T>,
  shouldRetry: (error: unknown) => boolean,
  options: BackoffOptions,
): Promise<T> => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt + 1 >= options.attempts || !shouldRetry(error)) throw error;
      options.onRetry?.(error);
      await wait(fullJitterDelay(attempt, options));
    }
  }
};

/** Maps `items` through `fn` with at most `limit` calls in flight, keeping the order. */
export const mapWithConcurrency = async <T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};
