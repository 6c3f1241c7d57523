import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isServerError, isTransientError } from '@smithy/core/retry';

/**
 * The shapes of the errors the AWS SDK hands back from DynamoDB, read by name (never by
 * `err.code`): what a failed condition returned, why a transaction was cancelled, which
 * errors are throttling, collisions or transient. Pure: no domain meaning here; the core
 * decides what each means for a request.
 */

/** An item as DynamoDB hands it back with a failure, unmarshalled: plain JavaScript values. */
export type ReturnedItem = Record<string, unknown>;

const named = (error: unknown, ...names: string[]): error is Error & Record<string, unknown> =>
  error instanceof Error && names.includes(error.name);

const throttlingNames = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
];
const throttlingReasons = ['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded'];

/**
 * For a failed conditional write: `{ item }` with the stored item from
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD` (undefined when there is no item), or
 * undefined when the error is something else. The SDK hands the item back marshalled
 * even through lib-dynamodb, so it is unmarshalled here.
 */
export const conditionFailure = (error: unknown): { item: ReturnedItem | undefined } | undefined => {
  if (!named(error, 'ConditionalCheckFailedException')) return undefined;
  const raw = error.Item as Record<string, AttributeValue> | undefined;
  return { item: raw ? unmarshall(raw) : undefined };
};

export interface CancellationReason {
  code: string;
  item: ReturnedItem | undefined;
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
 * A transaction under this ClientRequestToken is still being processed: this request's own
 * earlier attempt, which may yet commit. Never a collision with someone else.
 */
export const isTransactionInProgress = (error: unknown): boolean =>
  named(error, 'TransactionInProgressException');

/**
 * A write refused because a transaction held its items, and not applied: a single write on
 * an item a running transaction holds (`TransactionConflictException`), or a transaction
 * cancelled for `TransactionConflict`. Worth another try.
 */
export const isWriteCollision = (error: unknown): boolean =>
  named(error, 'TransactionConflictException') ||
  (transactionCancellation(error)?.some((reason) => reason.code === 'TransactionConflict') ?? false);

/** DynamoDB throttling the request (the whole request, or an action of a transaction). */
export const isThrottling = (error: unknown): boolean =>
  named(error, ...throttlingNames) ||
  (transactionCancellation(error)?.some((reason) => throttlingReasons.includes(reason.code)) ?? false);

/**
 * A failure on the way there or inside the service, not an answer about the request (a
 * timed-out or reset connection, a 5xx): worth another try, as the SDK's own retry strategy
 * classifies it.
 */
export const isTransient = (error: unknown): boolean =>
  error instanceof Error && (isTransientError(error as never) || isServerError(error as never));

/**
 * DynamoDB refusing a Query's ExclusiveStartKey: out of the key condition's range, empty,
 * or not the key schema. Only the ValidationExceptions whose message names the start key
 * count; every other one is a bug.
 */
export const isStartKeyRejection = (error: unknown): boolean =>
  named(error, 'ValidationException') && /\bstart(ing)? key\b/i.test(error.message);
