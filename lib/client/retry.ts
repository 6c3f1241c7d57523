import { type BackoffOptions, fullJitterDelay, retryWithBackoff, wait } from '../core/send/backoff';

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
