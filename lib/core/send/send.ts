import { type Attempted, type Command, type Reach, sendAttempt } from '../../db/client';
import { deadlineReached, note } from '../../db/request-stats';
import { isThrottling, isTransactionInProgress, isTransient, isWriteCollision } from '../../db/sdk-errors';
import { fullJitterDelay, wait } from './backoff';

/**
 * Sending, with every retry in one place. The SDK retries nothing (lib/db/client.ts): each
 * attempt is sent here, and what it may have done is known from how far it got, so a write
 * whose answer was lost is re-sent only in the form that recognises it, and a request that
 * cannot know what it did says so instead of guessing.
 */

/** Attempts of one request in all, the first included. */
export const SEND_ATTEMPTS = 4;

const backoff = { attempts: SEND_ATTEMPTS, baseMs: 25, capMs: 400 };

/**
 * Whether an attempt that failed may nevertheless have been applied: it left and DynamoDB
 * answered it with success (the answer lost on the way up), with a 5xx, or not at all; or it
 * answered that this transaction is still in progress. A request that never left, or was
 * refused by DynamoDB (a 4xx: a failed condition, throttling, a collision), was not applied.
 */
export const mayHaveApplied = (reach: Reach, error: unknown): boolean => {
  if (!reach.sent) return false;
  if (isTransactionInProgress(error)) return true;
  return reach.status === undefined || reach.status < 400 || reach.status >= 500;
};

/** One failed attempt of a request: its error, and whether it may have been applied. */
export interface FailedAttempt {
  error: unknown;
  mayHaveApplied: boolean;
}

/** What sending a request came to, after every attempt it took. */
export type Sent<O> =
  | { ok: true; output: O; failed: readonly FailedAttempt[] }
  | { ok: false; error: unknown; failed: readonly FailedAttempt[] };

/** Whether any attempt of a request may have been applied. */
export const anyMayHaveApplied = (failed: readonly FailedAttempt[]): boolean =>
  failed.some((attempt) => attempt.mayHaveApplied);

/** Whether a failed attempt is worth another: the same request may yet go through. */
const worthRetrying = (attempt: FailedAttempt): boolean =>
  attempt.mayHaveApplied ||
  isThrottling(attempt.error) ||
  isTransient(attempt.error) ||
  isWriteCollision(attempt.error) ||
  isTransactionInProgress(attempt.error);

/**
 * Sends a request until it succeeds, meets an answer another try cannot change (a failed
 * condition, a cancelled transaction's conditions, a bad request), or the attempts or the
 * request's time are used up; waits with full jitter between attempts. `command` makes each
 * attempt from the ones that failed before it (a write re-sent after one that may have been
 * applied carries what recognises it), or says `undefined` to stop. Nothing is thrown: the
 * caller reads what the attempts came to.
 */
export const sendWithRetries = async <O>(
  command: (failed: readonly FailedAttempt[]) => Command | undefined,
): Promise<Sent<O>> => {
  const failed: FailedAttempt[] = [];
  for (let attempt = 0; ; attempt += 1) {
    const next = command(failed);
    if (!next) return { ok: false, error: failed.at(-1)?.error, failed };
    note('dynamodbRequests');
    const sent: Attempted<O> = await sendAttempt<O>(next);
    if (sent.ok) return { ok: true, output: sent.output, failed };
    const outcome = { error: sent.error, mayHaveApplied: mayHaveApplied(sent.reach, sent.error) };
    failed.push(outcome);
    if (!worthRetrying(outcome) || attempt + 1 >= backoff.attempts || deadlineReached()) {
      return { ok: false, error: sent.error, failed };
    }
    if (isWriteCollision(sent.error) || isTransactionInProgress(sent.error)) note('contentionRetries');
    await wait(fullJitterDelay(attempt, backoff));
  }
};
