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

/** How often an intended change answered OUTCOME_UNKNOWN is sent again, as the same request, before the helper gives up on it. */
export const UNKNOWN_REPEATS = 8;

/** One intended change: the key that makes every send of it the same request. */
export interface Intent {
  idempotencyKey: string;
}

const newIntent = (): Intent => ({ idempotencyKey: globalThis.crypto.randomUUID() });

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/**
 * Read-modify-write for automated writers (the retry decorator of the seed article, done
 * right): reads the current state, applies the caller's change to it and writes with the
 * version it read; on STALE_DATA or WRITE_CONTENTION, answers that say nothing was written,
 * it waits (full jitter) and starts again from a fresh read, as a new change with a new
 * intent. Any other error ends it at once. Works in-process (domain errors) and over HTTP
 * (the API client's errors), as both carry `code`.
 *
 * OUTCOME_UNKNOWN (the change may or may not have been applied) is never answered with a new
 * change made from a new read, which could apply this one twice:
 * - `keyed`: `write` sends `intent.idempotencyKey` as the request's Idempotency-Key, so the
 *   very same request is sent again (with backoff, up to UNKNOWN_REPEATS times) until it has
 *   its true answer: the first answer, a conflict (not applied: a new read), or an error.
 * - otherwise `decide`, if given, reads the state again and says whether the change is in it
 *   (its result) or not (undefined: a new attempt); without it, OUTCOME_UNKNOWN goes to the
 *   caller, who must read before deciding.
 */
export const updateWithRetry = async <S, R>(
  steps: {
    read: () => Promise<S>;
    write: (state: S, intent: Intent) => Promise<R>;
    keyed?: boolean;
    decide?: (state: S) => R | undefined;
  },
  options: Partial<BackoffOptions> = {},
): Promise<R> => {
  const backoff = { attempts: 10, baseMs: 10, capMs: 1000, ...options };
  return retryWithBackoff(
    async () => {
      const state = await steps.read();
      const intent = newIntent();
      for (let repeat = 0; ; repeat += 1) {
        try {
          return await steps.write(state, intent);
        } catch (error) {
          if (codeOf(error) !== 'OUTCOME_UNKNOWN') throw error;
          if (steps.keyed && repeat + 1 < UNKNOWN_REPEATS) {
            await wait(fullJitterDelay(repeat, backoff));
            continue;
          }
          if (steps.keyed || !steps.decide) throw error;
          const applied = steps.decide(await steps.read());
          if (applied !== undefined) return applied;
          // Not in the state read after it: not applied, a conflict like any other.
          throw Object.assign(new Error('The change was not applied.'), { code: 'STALE_DATA' });
        }
      }
    },
    isRetryableConflict,
    backoff,
  );
};
