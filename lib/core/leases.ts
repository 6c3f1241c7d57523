import { randomBytes } from 'node:crypto';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../db/client';
import { LockLostError } from '../errors';
import { attemptNotApplied, recordAttempt } from './attempts';
import { updateItemOnce, updateOnce } from './commit';
import { ExpressionBuilder, updateExpression } from './expression';
import { type EntitySpec, keyOf } from './keys';
import { heldBy, isHeldBy, LOCK_SKEW_MARGIN_MS, lockedOut, type StoredLock } from './locks';
import { planFromRead } from './record-store';
import type { WriteContext } from './records';
import type { Built } from './requests';
import { conditionOf, MovedError, type Rule, recordExists, recordLive } from './rules';
import type { StoredItem } from './sdk-errors';
import { asAction, readItem } from './writes';

export interface Lease {
  token: string;
  owner: string;
  acquiredAt: string;
  expiresAt: string;
  /** Goes up by one with every acquisition of this record's lock. */
  fence: number;
}

export type LeaseContext = Pick<WriteContext, 'actor' | 'now' | 'idempotency'>;

/**
 * A lock write recognised as already applied (its response lost, re-sent by the SDK) finds
 * the item as it is now: if the lock it wrote has since been broken or taken over, the
 * lease it made is gone, and the lock stored now is someone else's. Never hand that one out.
 */
const ownLockOf = (item: StoredItem, token: string): StoredLock => {
  const lock = item.lock as StoredLock | undefined;
  if (lock?.token !== token)
    throw new LockLostError(
      'This lock was taken, then broken or taken over before the answer arrived. Acquire the lock again.',
    );
  return lock;
};

const leaseOf = (lock: StoredLock, fence: number): Lease => ({
  token: lock.token,
  owner: lock.owner,
  acquiredAt: lock.acquiredAt,
  expiresAt: lock.expiresAt,
  fence,
});

const newLock = (context: LeaseContext, ttlSeconds: number): StoredLock => {
  const until = context.now.getTime() + ttlSeconds * 1000;
  return {
    token: randomBytes(18).toString('base64url'),
    owner: context.actor,
    acquiredAt: context.now.toISOString(),
    expiresAt: new Date(until).toISOString(),
    until,
  };
};

/**
 * The lock is free, the caller's own, or expired for longer than the skew margin: another
 * user's clock may run behind ours, so a lock is taken over only once it has expired by
 * every clock.
 */
const lockTakeable = (context: LeaseContext): Rule => ({
  clause: (x) =>
    `attribute_not_exists(${x.name('lock')}) OR ${x.name('lock.owner')} = ${x.value(context.actor)} OR ${x.name('lock.until')} <= ${x.value(context.now.getTime() - LOCK_SKEW_MARGIN_MS)}`,
  broken: (item) =>
    item && (item.lock as StoredLock | undefined)?.owner !== context.actor
      ? lockedOut(item, context, LOCK_SKEW_MARGIN_MS)
      : undefined,
});

/** The fence is the one read: a keyed acquisition pinned to it knows its own fence. */
const fenceIs = (fence: number): Rule => ({
  clause: (x) =>
    fence === 0
      ? `attribute_not_exists(${x.name('lockFence')})`
      : `${x.name('lockFence')} = ${x.value(fence)}`,
  broken: (item) => (item && Number(item.lockFence ?? 0) !== fence ? new MovedError() : undefined),
});

/**
 * The token is the current one, the caller's own, and has not expired: once expired,
 * someone else may have locked and written.
 */
const tokenCurrent = (token: string, context: LeaseContext): Rule => ({
  clause: (x) =>
    `${heldBy(x, token, context.actor)} AND ${x.name('lock.until')} > ${x.value(context.now.getTime())}`,
  broken: (item) => {
    const lock = item?.lock as StoredLock | undefined;
    return item && !(isHeldBy(lock, token, context.actor) && (lock?.until ?? 0) > context.now.getTime())
      ? new LockLostError()
      : undefined;
  },
});

const lockRequest = (
  entity: EntitySpec,
  id: string,
  rules: Rule[],
  set: (x: ExpressionBuilder) => string[],
  remove: readonly string[],
  attemptId?: string,
): Built<UpdateCommandInput> => {
  const x = new ExpressionBuilder();
  const sets = [...set(x), ...(attemptId ? recordAttempt(x, attemptId) : [])];
  return {
    input: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: updateExpression(
        sets,
        remove.map((name) => x.name(name)),
      ),
      // This very attempt has not been applied already (its response lost, re-sent by the SDK).
      ConditionExpression: conditionOf(x, rules, attemptId ? [attemptNotApplied(x, attemptId)] : []),
      ...x.attributes(),
    },
    rules,
  };
};

/** The request of an acquisition (pure); `fence` pins it to the fence read. */
export const acquireRequest = (
  entity: EntitySpec,
  id: string,
  lock: StoredLock,
  context: LeaseContext,
  options: { attemptId?: string; fence?: number } = {},
): Built<UpdateCommandInput> =>
  lockRequest(
    entity,
    id,
    [
      recordExists(),
      recordLive(context.now),
      lockTakeable(context),
      ...(options.fence === undefined ? [] : [fenceIs(options.fence)]),
    ],
    (x) => [
      `${x.name('lock')} = ${x.value(lock)}`,
      `${x.name('lockFence')} = if_not_exists(${x.name('lockFence')}, ${x.value(0)}) + ${x.value(1)}`,
    ],
    [],
    options.attemptId,
  );

/**
 * Acquires the record's lock for `ttlSeconds`: free, expired past the skew margin, or
 * already the caller's (who gets a fresh token; the old one stops working). Locking does
 * not change the record's version. Without a key: one UpdateItem (the SDK's retry of this
 * attempt gets this lease back). With one: a read for the fence, then the lock and the
 * key's record in one transaction pinned to that fence, so a repeat gets the first lease.
 */
export const acquireLease = async (
  entity: EntitySpec,
  id: string,
  ttlSeconds: number,
  context: LeaseContext,
): Promise<{ lease: Lease; replayed: boolean }> => {
  const lock = newLock(context, ttlSeconds);
  const { response, replayed } = await updateItemOnce(
    {
      build: (attemptId) => acquireRequest(entity, id, lock, context, { attemptId }),
      // The fence moves only with a new token: while the token is this one, so is the fence.
      answer: (written) => ({ lease: leaseOf(ownLockOf(written, lock.token), Number(written.lockFence)) }),
    },
    {
      read: () => readItem(keyOf(entity, id)),
      plan: (item: StoredItem | undefined) => {
        const fence = Number(item?.lockFence ?? 0);
        return planFromRead(
          item,
          [asAction('Update', acquireRequest(entity, id, lock, context, { fence }))],
          () => ({ lease: leaseOf(lock, fence + 1) }),
        );
      },
    },
    context,
  );
  return { lease: response.lease, replayed };
};

/** Extends the caller's unexpired lock; a token that is no longer current is LOCK_LOST. */
export const renewLease = async (
  entity: EntitySpec,
  id: string,
  token: string,
  ttlSeconds: number,
  context: LeaseContext,
): Promise<{ lease: Lease; replayed: boolean }> => {
  const until = context.now.getTime() + ttlSeconds * 1000;
  const build = (attemptId?: string) =>
    lockRequest(
      entity,
      id,
      [recordExists(), recordLive(context.now), tokenCurrent(token, context)],
      (x) => [
        `${x.name('lock.until')} = ${x.value(until)}`,
        `${x.name('lock.expiresAt')} = ${x.value(new Date(until).toISOString())}`,
      ],
      [],
      attemptId,
    );
  const renewed = (item: StoredItem): Lease =>
    leaseOf(
      { ...ownLockOf(item, token), until, expiresAt: new Date(until).toISOString() },
      Number(item.lockFence),
    );
  const { response, replayed } = await updateItemOnce(
    { build, answer: (written) => ({ lease: renewed(written) }) },
    {
      read: () => readItem(keyOf(entity, id)),
      plan: (item: StoredItem | undefined) =>
        planFromRead(item, [asAction('Update', build())], (read) => ({ lease: renewed(read) })),
    },
    context,
  );
  return { lease: response.lease, replayed };
};

/**
 * Releases the lock. With a token, only that token's lock (or none: a lock already gone is
 * released); without one (a supervisor breaking it), whoever holds it. A token whose lock
 * someone else holds now is LOCK_LOST.
 */
export const releaseLease = async (
  entity: EntitySpec,
  id: string,
  token: string | undefined,
  context: LeaseContext,
): Promise<{ replayed: boolean }> => {
  const tokenRule = (held: string): Rule => ({
    clause: (x) => `attribute_not_exists(${x.name('lock')}) OR (${heldBy(x, held, context.actor)})`,
    broken: (item) => {
      const lock = item?.lock as StoredLock | undefined;
      return item && lock !== undefined && !isHeldBy(lock, held, context.actor)
        ? new LockLostError()
        : undefined;
    },
  });
  const build = (attemptId?: string) =>
    lockRequest(
      entity,
      id,
      [recordExists(), recordLive(context.now), ...(token === undefined ? [] : [tokenRule(token)])],
      () => [],
      ['lock'],
      attemptId,
    );
  return updateOnce(build, context);
};
