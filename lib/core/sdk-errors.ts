import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { noteCause } from '../db/request-stats';
import { AppError, InternalError, ThrottledError } from '../errors';
import { invalidCursorError } from './cursor';

/** A stored item as lib sees it: plain JavaScript values. */
export type StoredItem = Record<string, unknown>;

const named = (error: unknown, ...names: string[]): error is Error & Record<string, unknown> =>
  error instanceof Error && names.includes(error.name);

const throttlingNames = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
];

/**
 * For a failed conditional write: `{ item }` with the stored item from
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD` (undefined when there is no item), or
 * undefined when the error is something else. The SDK hands the item back marshalled
 * even through lib-dynamodb, so it is unmarshalled here.
 */
export const conditionFailure = (error: unknown): { item: StoredItem | undefined } | undefined => {
  if (!named(error, 'ConditionalCheckFailedException')) return undefined;
  const raw = error.Item as Record<string, AttributeValue> | undefined;
  return { item: raw ? unmarshall(raw) : undefined };
};

export interface CancellationReason {
  code: string;
  item: StoredItem | undefined;
}

/** For a cancelled transaction: one reason per action, in the order of the actions. */
export const transactionCancellation = (error: unknown): CancellationReason[] | undefined => {
  if (!named(error, 'TransactionCanceledException')) return undefined;
  const reasons = (error.CancellationReasons ?? []) as {
    Code?: string;
    Item?: Record<string, AttributeValue>;
  }[];
  return reasons.map((reason) => ({
    code: reason.Code ?? 'None',
    item: reason.Item ? unmarshall(reason.Item) : undefined,
  }));
};

/**
 * A write that collided with a transaction on the same items, and was not applied: a single
 * write on an item a running transaction holds (`TransactionConflictException`), a
 * transaction whose token is still being processed (`TransactionInProgressException`), or a
 * transaction cancelled for `TransactionConflict`. Worth another try.
 */
export const isWriteCollision = (error: unknown): boolean =>
  named(error, 'TransactionConflictException', 'TransactionInProgressException') ||
  (transactionCancellation(error)?.some((reason) => reason.code === 'TransactionConflict') ?? false);

/** Throttling that outlasted the SDK's own retries. */
export const isThrottling = (error: unknown): boolean =>
  named(error, ...throttlingNames) ||
  (transactionCancellation(error)?.some((reason) =>
    ['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded'].includes(reason.code),
  ) ??
    false);

/**
 * DynamoDB refusing a Query's ExclusiveStartKey: out of the key condition's range, empty,
 * or not the key schema. The only start keys lib sends that DynamoDB did not hand out come
 * from cursors, so this is a forged cursor that `decodeCursor` let through. Only the
 * ValidationExceptions whose message names the start key count; every other one is a bug.
 */
export const isStartKeyRejection = (error: unknown): boolean =>
  named(error, 'ValidationException') && /\bstart(ing)? key\b/i.test(error.message);

/**
 * Turns the SDK errors that have a meaning for callers into domain errors; everything
 * else is rethrown as it is and ends as a 500 without details.
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
