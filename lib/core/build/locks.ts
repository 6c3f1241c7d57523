import { LockedError, LockLostError } from '../../errors';
import type { ExpressionBuilder } from './expression';
import type { StoredItem } from './items';

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
 * The clause that keeps writers out while someone else holds an unexpired lock. A writer
 * that presents a token believes it holds the lock: it writes only while that token is the
 * current one, its own and unexpired (a token that reached another user unlocks nothing; one
 * broken, taken over, released or expired since writes nothing, even when no lock is held).
 */
export const lockFreeClause = (x: ExpressionBuilder, context: LockContext) => {
  if (context.lockToken) {
    return `${heldBy(x, context.lockToken, context.actor)} AND ${x.name('lock.until')} > ${x.value(context.now.getTime())}`;
  }
  // Nobody holds an unexpired lock on the record.
  return `attribute_not_exists(${x.name('lock')}) OR ${x.name('lock.until')} <= ${x.value(context.now.getTime())}`;
};

/** The clause: the stored lock is this token's, owned by this actor. */
export const heldBy = (x: ExpressionBuilder, token: string, actor: string): string =>
  `${x.name('lock.token')} = ${x.value(token)} AND ${x.name('lock.owner')} = ${x.value(actor)}`;

/** Whether the stored lock is this token's, owned by this actor. */
export const isHeldBy = (lock: StoredLock | undefined, token: string | undefined, actor: string): boolean =>
  lock !== undefined && token !== undefined && lock.token === token && lock.owner === actor;

/** 423 with the holder and `Retry-After` (counted to `until` plus `marginMs`). */
const lockedBy = (lock: StoredLock, now: Date, marginMs: number): LockedError =>
  new LockedError(
    { owner: lock.owner, expiresAt: lock.expiresAt },
    Math.ceil((lock.until + marginMs - now.getTime()) / 1000),
  );

/**
 * Why a write is kept out by the lock, or undefined when it is not. Without a token: 423
 * while anyone holds an unexpired lock (`marginMs` past its expiry for one who would take it
 * over). With one: 423 while another user holds an unexpired lock; else 409 LOCK_LOST unless
 * the token is the current one, the writer's own and unexpired: a writer that believes it
 * holds the lock learns that it does not before anything is written.
 */
export const lockedOut = (
  item: StoredItem,
  context: LockContext,
  marginMs = 0,
): LockedError | LockLostError | undefined => {
  const lock = item.lock as StoredLock | undefined;
  const now = context.now.getTime();
  const unexpired = lock !== undefined && lock.until + marginMs > now;
  if (!context.lockToken) return unexpired ? lockedBy(lock, context.now, marginMs) : undefined;
  if (unexpired && lock.owner !== context.actor) return lockedBy(lock, context.now, marginMs);
  return isHeldBy(lock, context.lockToken, context.actor) && (lock?.until ?? 0) > now
    ? undefined
    : new LockLostError();
};
