import { AppError, InternalError } from '../problems';
import type { ApiResult } from './response';

/** A stable URI per code: the problem `type` (RFC 9457). */
export const problemType = (code: string): string =>
  `https://no-lost-updates.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`;

/** The members RFC 9457 and our contract define; an extension of the same name is dropped. */
const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'requestId']);

/**
 * The problem+json answer for any error. AppErrors say what they are; anything else is
 * a 500 that shows only the request id, never a message, stack or AWS error name.
 */
export const problemResult = (error: unknown, requestId: string): ApiResult => {
  if (!(error instanceof AppError)) {
    return problemResult(new InternalError(), requestId);
  }
  const { status } = error;
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', ...error.headers },
    body: JSON.stringify({
      type: problemType(error.code),
      title: error.title,
      status,
      detail: error.message,
      code: error.code,
      requestId,
      // Extensions follow, and can never overwrite the members above.
      ...Object.fromEntries(Object.entries(error.extensions).filter(([name]) => !PROBLEM_MEMBERS.has(name))),
    }),
  };
};
