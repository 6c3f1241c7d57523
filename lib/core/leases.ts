import { randomBytes } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import { LockLostError, NotFoundError } from '../errors';
import { allOf, ExpressionBuilder, updateExpression } from './expression';
import { assertNotLockedOut, type StoredLock } from './lease-guard';
import { conditionFailure, type StoredItem, translateSdkError } from './sdk-errors';
import { type EntitySpec, goneError, keyOf } from './versioned-store';

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
}

const leaseOf = (lock: StoredLock, fence: number): Lease => ({
  token: lock.token,
  owner: lock.owner,
  acquiredAt: lock.acquiredAt,
  expiresAt: lock.expiresAt,
  fence,
});

const newLock = (
  context: LeaseContext,
  ttlSeconds: number,
  acquiredAt = context.now.toISOString(),
): StoredLock => {
  const until = context.now.getTime() + ttlSeconds * 1000;
  return {
    token: randomBytes(18).toString('base64url'),
    owner: context.actor,
    acquiredAt,
    expiresAt: new Date(until).toISOString(),
    until,
  };
};

/** The clauses every lock operation needs: the record exists and is not deleted. */
const liveRecord = (x: ExpressionBuilder): string[] => [
  // Only an existing record can be locked.
  `attribute_exists(${x.name('pk')})`,
  // A deleted record answers 410, locked or not.
  `attribute_not_exists(${x.name('deletedAt')})`,
];

const missingOrGone = (item: StoredItem | undefined): void => {
  if (!item) throw new NotFoundError();
  if (item.deletedAt !== undefined) throw goneError(item);
};

/**
 * Acquires the record's lock for `ttlSeconds`, in one conditional write: free, expired, or
 * already the caller's (who gets a fresh token; the old one stops working). Locking does not
 * change the record's version.
 */
export const acquireLease = async (
  entity: EntitySpec,
  id: string,
  ttlSeconds: number,
  context: LeaseContext,
): Promise<Lease> => {
  const lock = newLock(context, ttlSeconds);
  const x = new ExpressionBuilder();
  const condition = allOf([
    ...liveRecord(x),
    // The lock is free, expired, or the caller's own.
    `attribute_not_exists(${x.name('lock')}) OR ${x.name('lock.until')} <= ${x.value(context.now.getTime())} OR ${x.name('lock.owner')} = ${x.value(context.actor)}`,
  ]);
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
    return leaseOf(lock, Number(Attributes?.lockFence));
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    missingOrGone(failure.item);
    assertNotLockedOut(failure.item as StoredItem, context);
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
    missingOrGone(failure.item);
    throw new LockLostError();
  }
};

/**
 * Releases the lock. With a token, only that token's lock; without one (a supervisor
 * breaking it), whoever holds it. Releasing a lock nobody holds any more is LOCK_LOST for a
 * token, and done for a supervisor.
 */
export const releaseLease = async (
  entity: EntitySpec,
  id: string,
  token: string | undefined,
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
    missingOrGone(failure.item);
    throw new LockLostError();
  }
};
