import { randomBytes } from 'node:crypto';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../../../db/table-name';
import { LockLostError } from '../../../errors';
import {
  type AttemptTag,
  attemptClauses,
  newAttempt,
  type RegisterValues,
  recordAttempt,
} from '../../build/attempts';
import { ExpressionBuilder, updateExpression } from '../../build/expression';
import type { StoredItem } from '../../build/items';
import { type EntitySpec, keyOf } from '../../build/keys';
import { heldBy, isHeldBy, LOCK_SKEW_MARGIN_MS, lockedOut, type StoredLock } from '../../build/locks';
import type { WriteContext } from '../../build/records';
import type { Built } from '../../build/requests';
import { conditionOf, MovedError, type Rule, recordExists, recordLive } from '../../build/rules';
import { commit, type ItemChange, planFromRead } from '../../once/commit';
import { readItem } from '../../send/reads';
import { asAction, type ItemWritten } from '../../send/writes';

export interface Lease {
  token: string;
  owner: string;
  acquiredAt: string;
  expiresAt: string;
  /** Goes up by one with every acquisition of this record's lock. */
  fence: number;
}

export type LeaseContext = Pick<WriteContext, 'actor' | 'now' | 'idempotency'>;

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

/** An attempt of a keyless lock operation: its tag, and `again` when an earlier one may have landed. */
type LockAttempt = { tag: AttemptTag; again: boolean } | undefined;

const lockRequest = (
  entity: EntitySpec,
  id: string,
  rules: Rule[],
  set: (x: ExpressionBuilder) => string[],
  remove: readonly string[],
  attempt: LockAttempt,
  values?: RegisterValues,
): Built<UpdateCommandInput> => {
  const x = new ExpressionBuilder();
  const sets = [...set(x), ...(attempt ? recordAttempt(x, attempt.tag, values) : [])];
  return {
    input: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: updateExpression(
        sets,
        remove.map((name) => x.name(name)),
      ),
      ConditionExpression: conditionOf(
        x,
        rules,
        attempt ? attemptClauses(x, attempt.tag, attempt.again) : [],
      ),
      ...x.attributes(),
    },
    rules,
  };
};

/** The keyless form of a lock operation: one UpdateItem carrying its attempt, in the locks' own window. */
const lockUpdate =
  <R>(build: (attempt: LockAttempt) => Built<UpdateCommandInput>, answer: ItemChange<R>['answer']) =>
  (): ItemChange<R> => {
    const tag = newAttempt('lock');
    return { kind: 'Update', tag, build: (again) => build({ tag, again }), answer };
  };

/** The request of an acquisition (pure); `fence` pins it to the fence read. */
export const acquireRequest = (
  entity: EntitySpec,
  id: string,
  lock: StoredLock,
  context: LeaseContext,
  options: { attempt?: LockAttempt; fence?: number } = {},
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
    (x) => [`${x.name('lock')} = ${x.value(lock)}`, `${x.name('lockFence')} = ${nextFence(x)}`],
    [],
    options.attempt,
    // What the lease in the answer needs: the fence this acquisition makes, and its time.
    (x) => [nextFence(x), x.value(lock.acquiredAt)],
  );

const nextFence = (x: ExpressionBuilder) =>
  `if_not_exists(${x.name('lockFence')}, ${x.value(0)}) + ${x.value(1)}`;

/**
 * Acquires the record's lock for `ttlSeconds`: free, expired past the skew margin, or
 * already the caller's (who gets a fresh token; the old one stops working). Locking does
 * not change the record's version. Without a key: one UpdateItem; an earlier attempt of it
 * recognised as applied gets this lease back, with the fence it made, even when the lock has
 * been broken or taken over since. With one: a read for the fence, then the lock and the
 * key's record in one transaction pinned to that fence, so a repeat gets the first lease.
 */
export const acquireLease = async (
  entity: EntitySpec,
  id: string,
  ttlSeconds: number,
  context: LeaseContext,
): Promise<{ lease: Lease; replayed: boolean }> => {
  const lock = newLock(context, ttlSeconds);
  const { response, replayed } = await commit(
    {
      item: lockUpdate(
        (attempt) => acquireRequest(entity, id, lock, context, { attempt }),
        (written: ItemWritten) => ({
          response: { lease: leaseOf(lock, written.recognised?.fence ?? Number(written.item.lockFence)) },
        }),
      ),
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

/**
 * Extends the caller's unexpired lock; a token that is no longer current is LOCK_LOST. An
 * earlier attempt recognised as applied gets this renewal's lease back, as it made it.
 */
export const renewLease = async (
  entity: EntitySpec,
  id: string,
  token: string,
  ttlSeconds: number,
  context: LeaseContext,
): Promise<{ lease: Lease; replayed: boolean }> => {
  const until = context.now.getTime() + ttlSeconds * 1000;
  const expiresAt = new Date(until).toISOString();
  const build = (attempt?: LockAttempt) =>
    lockRequest(
      entity,
      id,
      [recordExists(), recordLive(context.now), tokenCurrent(token, context)],
      (x) => [
        `${x.name('lock.until')} = ${x.value(until)}`,
        `${x.name('lock.expiresAt')} = ${x.value(expiresAt)}`,
      ],
      [],
      attempt,
      // What the lease in the answer needs: the lock's fence and acquisition time, as they were.
      (x) => [
        `if_not_exists(${x.name('lockFence')}, ${x.value(0)})`,
        `if_not_exists(${x.name('lock.acquiredAt')}, ${x.value('')})`,
      ],
    );
  const renewed = (item: StoredItem): Lease => {
    const lock = item.lock as StoredLock;
    return leaseOf({ ...lock, until, expiresAt }, Number(item.lockFence));
  };
  const { response, replayed } = await commit(
    {
      item: lockUpdate(build, (written: ItemWritten) => {
        const recognised = written.recognised;
        if (!recognised) return { response: { lease: renewed(written.item) } };
        const lease = {
          token,
          owner: context.actor,
          acquiredAt: recognised.acquiredAt ?? '',
          expiresAt,
          fence: recognised.fence ?? 0,
        };
        return { response: { lease } };
      }),
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
  const build = (attempt?: LockAttempt) =>
    lockRequest(
      entity,
      id,
      [recordExists(), recordLive(context.now), ...(token === undefined ? [] : [tokenRule(token)])],
      () => [],
      ['lock'],
      attempt,
    );
  const { replayed } = await commit(
    {
      item: lockUpdate(build, () => ({ response: {} })),
      read: async () => undefined,
      plan: () => ({ actions: [asAction('Update', build())], response: {} }),
    },
    context,
  );
  return { replayed };
};
