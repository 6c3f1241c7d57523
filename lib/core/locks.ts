import { LockedError } from '../errors';
import type { ExpressionBuilder } from './expression';
import type { StoredItem } from './sdk-errors';

/**
 * A lease lock as stored on the record's own item, so that every write to the record
 * checks it in the same condition as the version. `until` (epoch ms) decides expiry;
 * TTL never does.
 */
export interface StoredLock {
  token: string;
  owner: string;
  acquiredAt: string;
  expiresAt: string;
  until: number;
}

/**
 * How long past its expiry a lock still keeps *other users* from taking it over. Expiry is
 * judged by the clock of whoever writes; this absorbs skew between two functions' clocks,
 * so the holder's last write, made just before expiry by its own clock, cannot meet a new
 * holder's first.
 */
export const LOCK_SKEW_MARGIN_MS = 1000;

/** The item's lock while it is unexpired; an expired lock binds no one. */
export const activeLock = (item: StoredItem, now: Date): StoredLock | undefined => {
  const lock = item.lock as StoredLock | undefined;
  return lock && lock.until > now.getTime() ? lock : undefined;
};

/** Who writes, when, and the lock token they present. */
export interface LockContext {
  actor: string;
  now: Date;
  lockToken?: string | undefined;
}

/**
 * The clause that keeps writers out while someone else holds an unexpired lock. A token is
 * its holder's: the writer must present it and be the lock's owner (a token that reached
 * another user unlocks nothing).
 */
export const lockFreeClause = (x: ExpressionBuilder, context: LockContext) => {
  // Nobody holds an unexpired lock on the record, or its owner writes with its token.
  const clauses = [
    `attribute_not_exists(${x.name('lock')})`,
    `${x.name('lock.until')} <= ${x.value(context.now.getTime())}`,
  ];
  if (context.lockToken) clauses.push(`(${heldBy(x, context.lockToken, context.actor)})`);
  return clauses.join(' OR ');
};

/** The clause: the stored lock is this token's, owned by this actor. */
export const heldBy = (x: ExpressionBuilder, token: string, actor: string): string =>
  `${x.name('lock.token')} = ${x.value(token)} AND ${x.name('lock.owner')} = ${x.value(actor)}`;

/** Whether the stored lock is this token's, owned by this actor. */
export const isHeldBy = (lock: StoredLock | undefined, token: string | undefined, actor: string): boolean =>
  lock !== undefined && token !== undefined && lock.token === token && lock.owner === actor;

/** 423 with the holder and `Retry-After`, or undefined when no unexpired lock keeps this writer out. */
export const lockedOut = (item: StoredItem, context: LockContext, marginMs = 0): LockedError | undefined => {
  const lock = item.lock as StoredLock | undefined;
  if (
    !lock ||
    lock.until + marginMs <= context.now.getTime() ||
    isHeldBy(lock, context.lockToken, context.actor)
  ) {
    return undefined;
  }
  return new LockedError(
    { owner: lock.owner, expiresAt: lock.expiresAt },
    Math.ceil((lock.until + marginMs - context.now.getTime()) / 1000),
  );
};
