import { noteCause } from '../../db/request-stats';
import { isStartKeyRejection, isThrottling } from '../../db/sdk-errors';
import { ThrottledError } from '../../errors';
import { AppError, InternalError } from '../../problems';
import { invalidCursorError } from '../build/cursor';

/**
 * Turns the SDK errors that have a meaning for callers into domain errors; everything
 * else is rethrown as it is and ends as a 500 without details. Only for a request that
 * certainly wrote nothing: THROTTLED says so.
 */
export const translateSdkError = (error: unknown): never => {
  if (isThrottling(error)) throw new ThrottledError(1);
  if (isStartKeyRejection(error)) throw invalidCursorError();
  throw error;
};

/**
 * How one part of a request made of parts (a batch item, a field group) reports its
 * failure: an AppError as it is; anything else as 500 INTERNAL, its cause kept for the
 * request's log line. A part fails by itself and never fails the whole request.
 */
export const partFailure = (error: unknown): AppError => {
  if (error instanceof AppError) return error;
  noteCause(String((error as Error | undefined)?.stack ?? error));
  return new InternalError();
};
