import { ApiError } from '../../lib/client/answers';
import { when } from './time';

/**
 * What a failed request means to the person who made it. Three kinds matter to them:
 * `refused` (nothing was written: a 4xx, contention, throttling), `unknown` (it may have
 * been applied: the answer was lost, a 5xx, `OUTCOME_UNKNOWN`; the same request with the
 * same Idempotency-Key is the only safe next step), and everything in between is one of these.
 */
export type Outcome = 'refused' | 'unknown';

export const outcomeOf = (error: unknown): Outcome =>
  error instanceof ApiError && (error.status < 500 || error.code === 'THROTTLED') ? 'refused' : 'unknown';

/** Why it is not known whether a request was applied, in a few words. */
export const whyUnknown = (error: unknown): string =>
  !(error instanceof ApiError)
    ? 'its answer was lost on the way'
    : error.code === 'OUTCOME_UNKNOWN'
      ? 'the server could not tell whether it was applied'
      : `the server failed while answering (${error.status})`;

/** The problem's code, or undefined for a lost answer. */
export const codeOf = (error: unknown): string | undefined =>
  error instanceof ApiError ? error.code : undefined;

/** One sentence for the person, from the problem's own details. */
export const explain = (error: unknown): string => {
  if (!(error instanceof ApiError))
    return 'The server could not be reached, or its answer was lost: it is not known whether this was applied.';
  const problem = error.problem;
  switch (error.code) {
    case 'LOCKED': {
      const lock = problem.lock as { owner: string; expiresAt: string };
      return `Refused: ${lock.owner} holds the lock until ${when(lock.expiresAt)}. Nothing was saved.`;
    }
    case 'LOCK_LOST':
      return 'Refused: your lock on this record is gone (broken, expired or taken again elsewhere). Nothing was saved.';
    case 'GONE':
      return `Deleted by ${String(problem.deletedBy)} at ${when(String(problem.deletedAt))}.`;
    case 'OUTCOME_UNKNOWN':
      return 'Not sure it was saved: the server could not tell whether it was applied.';
    case 'INSUFFICIENT_STOCK':
      return `Refused: only ${String((problem.current as { inStock?: number } | undefined)?.inStock)} in stock. Nothing was moved.`;
    case 'FORBIDDEN':
      return 'Your roles do not allow this. Nothing was saved.';
    case 'VALIDATION_FAILED': {
      const errors = (problem.errors ?? []) as { pointer: string; detail: string }[];
      return errors.length > 0
        ? `Not saved: ${errors.map((e) => `${e.pointer.slice(1) || 'the request'}: ${e.detail}`).join('; ')}`
        : problem.detail;
    }
    default:
      return problem.detail;
  }
};

/**
 * The API's field errors (`errors[].pointer`, JSON Pointers into the body), by the form path
 * each belongs to; `toPath` maps a pointer to the page's field (`/quantity` → the line's).
 * Pointers no field shows stay in `rest`, to be said beside the form.
 */
export const fieldErrors = (
  error: unknown,
  toPath: (pointer: string) => string | undefined,
): { byPath: Record<string, string>; rest: string[] } => {
  const byPath: Record<string, string> = {};
  const rest: string[] = [];
  if (error instanceof ApiError && error.code === 'VALIDATION_FAILED')
    for (const { pointer, detail } of (error.problem.errors ?? []) as { pointer: string; detail: string }[]) {
      const path = toPath(pointer);
      if (path) byPath[path] = byPath[path] ? `${byPath[path]} ${detail}` : detail;
      else rest.push(`${pointer.slice(1) || 'the request'}: ${detail}`);
    }
  return { byPath, rest };
};

/**
 * A request refused before it is sent (an amount that is not one), in the API's own shape,
 * so its fields are marked as the API's would be. Nothing was sent.
 */
export const notSent = (errors: { pointer: string; detail: string }[]): ApiError =>
  new ApiError(422, {
    type: 'about:blank',
    title: 'Not sent',
    status: 422,
    detail: `Not sent: ${errors.map((e) => e.detail).join(' ')}`,
    code: 'VALIDATION_FAILED',
    requestId: '',
    errors,
  });

/**
 * A refusal (nothing written) as the page shows it: field errors beside their fields, and
 * one sentence above the form (what no field shows, or to look at the fields marked).
 */
export const refusalOf = (
  error: unknown,
  toPath: (pointer: string) => string | undefined,
): { errors: Record<string, string>; message: string } => {
  const { byPath, rest } = fieldErrors(error, toPath);
  return {
    errors: byPath,
    message:
      Object.keys(byPath).length > 0 && rest.length === 0
        ? 'Not saved: see the fields marked.'
        : explain(error),
  };
};
