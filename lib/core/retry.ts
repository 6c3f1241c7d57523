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

/** The conflicts a re-read and a second try can resolve; nothing else is retried. */
export const RETRYABLE_CONFLICTS = ['STALE_DATA', 'WRITE_CONTENTION'] as const;

export const isRetryableConflict = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  (RETRYABLE_CONFLICTS as readonly unknown[]).includes((error as { code?: unknown }).code);

/**
 * Read-modify-write for automated writers (the retry decorator of the seed article, done
 * right): reads the current state, applies the caller's change to it and writes with the
 * version it read; on STALE_DATA or WRITE_CONTENTION, answers that say nothing was written,
 * it waits (full jitter) and starts again from a fresh read, as a new change. Any other error
 * ends it at once. Works in-process (domain errors) and over HTTP (the API client's errors),
 * as both carry `code`.
 *
 * OUTCOME_UNKNOWN (the change may or may not have been applied) is never answered with a new
 * change made from a new read, which could apply this one twice. The typed client has
 * already sent the same request again with the same Idempotency-Key; when that could not tell
 * either, `decide` (if given) reads the state again and says whether the change is in it
 * (its result) or not (undefined: a new attempt from that state); without `decide`, the
 * OUTCOME_UNKNOWN goes to the caller.
 */
export const updateWithRetry = async <S, R>(
  steps: {
    read: () => Promise<S>;
    write: (state: S) => Promise<R>;
    decide?: (state: S) => R | undefined;
  },
  options: Partial<BackoffOptions> = {},
): Promise<R> =>
  retryWithBackoff(
    async () => {
      try {
        return await steps.write(await steps.read());
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code !== 'OUTCOME_UNKNOWN' || !steps.decide) throw error;
        const applied = steps.decide(await steps.read());
        if (applied !== undefined) return applied;
        // Not in the state read after it: not applied, a conflict like any other.
        throw Object.assign(new Error('The change was not applied.'), { code: 'STALE_DATA' });
      }
    },
    isRetryableConflict,
    { attempts: 10, baseMs: 10, capMs: 1000, ...options },
  );
