import { randomBytes } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import { IdempotencyKeyReusedError, LockLostError, NotFoundError } from '../errors';
import { allOf, ExpressionBuilder, updateExpression } from './expression';
import { IDEMPOTENCY_WINDOW_MS, type Idempotency } from './idempotency';
import { assertNotLockedOut, type StoredLock } from './lease-guard';
import { conditionFailure, type StoredItem, translateSdkError } from './sdk-errors';
import { assertNotDeleted, type EntitySpec, keyOf } from './versioned-store';

export interface Lease {
  token: string;
  owner: string;
  acquiredAt: string;
  expiresAt: string;
  /** Goes up by one with every acquisition of this record's lock. */
  fence: number;
}

export interface LeaseContext {
  actor: string;
  now: Date;
  idempotency?: Idempotency | undefined;
}

/** A stored lock with the Idempotency-Key of the request that acquired it, if it had one. */
type KeyedLock = StoredLock & { k?: string; h?: string };

const leaseOf = (lock: StoredLock, fence: number): Lease => ({
  token: lock.token,
  owner: lock.owner,
  acquiredAt: lock.acquiredAt,
  expiresAt: lock.expiresAt,
  fence,
});

const newLock = (context: LeaseContext, ttlSeconds: number): KeyedLock => {
  const until = context.now.getTime() + ttlSeconds * 1000;
  return {
    token: randomBytes(18).toString('base64url'),
    owner: context.actor,
    acquiredAt: context.now.toISOString(),
    expiresAt: new Date(until).toISOString(),
    until,
    ...(context.idempotency ? { k: context.idempotency.keyHash, h: context.idempotency.requestHash } : {}),
  };
};

/** The clauses every lock operation needs: the record exists and is not deleted. */
const liveRecord = (x: ExpressionBuilder): string[] => [
  // Only an existing record can be locked.
  `attribute_exists(${x.name('pk')})`,
  // A deleted record answers 410, locked or not.
  `attribute_not_exists(${x.name('deletedAt')})`,
];

const missingOrGone = (item: StoredItem | undefined, now: Date): void => {
  if (!item) throw new NotFoundError();
  assertNotDeleted(item, now);
};

/**
 * Acquires the record's lock for `ttlSeconds`, in one conditional write: free, expired, or
 * already the caller's (who gets a fresh token; the old one stops working). Locking does not
 * change the record's version. A request that acquired the lock already (its answer lost,
 * retried by the SDK, or repeated with its Idempotency-Key) gets that lease back rather than
 * a second acquisition with a higher fence.
 */
export const acquireLease = async (
  entity: EntitySpec,
  id: string,
  ttlSeconds: number,
  context: LeaseContext,
): Promise<{ lease: Lease; replayed: boolean }> => {
  const lock = newLock(context, ttlSeconds);
  const windowStart = context.now.getTime() - IDEMPOTENCY_WINDOW_MS;
  const x = new ExpressionBuilder();
  const clauses = [
    ...liveRecord(x),
    // The lock is free, expired, or the caller's own.
    `attribute_not_exists(${x.name('lock')}) OR ${x.name('lock.until')} <= ${x.value(context.now.getTime())} OR ${x.name('lock.owner')} = ${x.value(context.actor)}`,
    // This very request has not acquired it already (the SDK retrying a lost answer).
    `attribute_not_exists(${x.name('lock')}) OR ${x.name('lock.token')} <> ${x.value(lock.token)}`,
  ];
  if (context.idempotency) {
    // Nor has a request with this Idempotency-Key, within the key's window.
    clauses.push(
      `attribute_not_exists(${x.name('lock.k')}) OR ${x.name('lock.k')} <> ${x.value(context.idempotency.keyHash)} OR ${x.name('lock.until')} < ${x.value(windowStart)}`,
    );
  }
  const condition = allOf(clauses);
  const update = updateExpression([
    `${x.name('lock')} = ${x.value(lock)}`,
    `${x.name('lockFence')} = if_not_exists(${x.name('lockFence')}, ${x.value(0)}) + ${x.value(1)}`,
  ]);
  try {
    const { Attributes } = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keyOf(entity, id),
        UpdateExpression: update,
        ConditionExpression: condition,
        ReturnValues: 'UPDATED_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...x.attributes(),
      }),
    );
    return { lease: leaseOf(lock, Number(Attributes?.lockFence)), replayed: false };
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    missingOrGone(failure.item, context.now);
    const item = failure.item as StoredItem;
    const stored = item.lock as KeyedLock | undefined;
    const fence = Number(item.lockFence);
    if (stored?.token === lock.token) return { lease: leaseOf(stored, fence), replayed: false };
    if (context.idempotency && stored?.k === context.idempotency.keyHash && stored.until >= windowStart) {
      if (stored.h !== context.idempotency.requestHash) throw new IdempotencyKeyReusedError();
      return { lease: leaseOf(stored, fence), replayed: true };
    }
    assertNotLockedOut(item, context);
    throw error;
  }
};

/** Extends the caller's unexpired lock; a token that is no longer current is LOCK_LOST. */
export const renewLease = async (
  entity: EntitySpec,
  id: string,
  token: string,
  ttlSeconds: number,
  context: LeaseContext,
): Promise<Lease> => {
  const x = new ExpressionBuilder();
  const until = context.now.getTime() + ttlSeconds * 1000;
  const condition = allOf([
    ...liveRecord(x),
    // The token is the current one...
    `${x.name('lock.token')} = ${x.value(token)}`,
    // ...and has not expired: once expired, someone else may have locked and written.
    `${x.name('lock.until')} > ${x.value(context.now.getTime())}`,
  ]);
  const update = updateExpression([
    `${x.name('lock.until')} = ${x.value(until)}`,
    `${x.name('lock.expiresAt')} = ${x.value(new Date(until).toISOString())}`,
  ]);
  try {
    const { Attributes } = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keyOf(entity, id),
        UpdateExpression: update,
        ConditionExpression: condition,
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...x.attributes(),
      }),
    );
    return leaseOf(Attributes?.lock as StoredLock, Number(Attributes?.lockFence));
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    missingOrGone(failure.item, context.now);
    throw new LockLostError();
  }
};

/**
 * Releases the lock. With a token, only that token's lock; without one (a supervisor
 * breaking it), whoever holds it. A token whose lock someone else holds now is LOCK_LOST;
 * when no lock is stored at all, releasing is done (so a release retried after its answer
 * was lost succeeds).
 */
export const releaseLease = async (
  entity: EntitySpec,
  id: string,
  token: string | undefined,
  now: Date,
): Promise<void> => {
  const x = new ExpressionBuilder();
  const clauses = liveRecord(x);
  // The caller's token is the current one (a supervisor breaking the lock needs none).
  if (token !== undefined) clauses.push(`${x.name('lock.token')} = ${x.value(token)}`);
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keyOf(entity, id),
        UpdateExpression: updateExpression([], [x.name('lock')]),
        ConditionExpression: allOf(clauses),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...x.attributes(),
      }),
    );
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    missingOrGone(failure.item, now);
    if (failure.item?.lock === undefined) return;
    throw new LockLostError();
  }
};
