import {
  AlreadyExistsError,
  GoneError,
  InvalidStateError,
  NotFoundError,
  OutcomeUnknownError,
} from '../../errors';
import { type AttemptTag, type Recognised, recognise } from './attempts';
import type { ExpressionBuilder } from './expression';
import type { StoredItem } from './items';
import { epochSeconds, PK, TTL } from './keys';
import { type LockContext, lockedOut, lockFreeClause } from './locks';
import { isLiveTombstone } from './records';

/**
 * One rule that keeps data safe, in one place: the condition clause that enforces it and the
 * reading of its failure, from the item as it was stored when the write failed (ALL_OLD or a
 * cancellation reason's item). Every write path composes rules; none restates one.
 */
export interface Rule {
  clause(x: ExpressionBuilder): string;
  /** What the failure means when this rule was the one broken; undefined when it held. */
  broken(item: StoredItem | undefined): Error | undefined;
}

/**
 * A pinned write (an `If-Match: *` change pinned to the version it read, a lock pinned to the
 * fence it read) found the record moved on since its read: not a conflict, a reason to read
 * again. Never leaves the core.
 */
export class MovedError extends Error {
  constructor() {
    super('The item moved on since it was read.');
    this.name = 'MovedError';
  }
}

/** The record exists: a change never creates one. */
export const recordExists = (detail?: string): Rule => ({
  clause: (x) => `attribute_exists(${x.name(PK)})`,
  broken: (item) => (item ? undefined : new NotFoundError(detail)),
});

/** 410 while a tombstone lasts, then 404 as if the record never was. */
export const goneOrNotFound = (item: StoredItem, now: Date): GoneError | NotFoundError =>
  isLiveTombstone(item, now)
    ? new GoneError(String(item.deletedAt), String(item.deletedBy))
    : new NotFoundError();

/** The record is not deleted: a tombstone answers 410, and 404 past its retention. */
export const recordLive = (now: Date): Rule => ({
  clause: (x) => `attribute_not_exists(${x.name('deletedAt')})`,
  broken: (item) => (item?.deletedAt !== undefined ? goneOrNotFound(item, now) : undefined),
});

/** The key is free for a create: no item, or only a tombstone whose retention has run out. */
export const keyFree = (now: Date, detail?: string): Rule => ({
  clause: (x) =>
    `attribute_not_exists(${x.name(PK)}) OR (attribute_exists(${x.name('deletedAt')}) AND ${x.name(TTL)} <= ${x.value(epochSeconds(now))})`,
  broken: (item) =>
    item && (item.deletedAt === undefined || isLiveTombstone(item, now))
      ? new AlreadyExistsError(detail)
      : undefined,
});

/** Nobody else holds an unexpired lock on the record (or the writer presents its token). */
export const lockFree = (context: LockContext): Rule => ({
  clause: (x) => lockFreeClause(x, context),
  broken: (item) => (item ? lockedOut(item, context) : undefined),
});

/** The record is in a state that allows this change (e.g. an order's lines only while draft). */
export const inState = (field: string, allowed: readonly string[], what: string): Rule => ({
  clause: (x) => `${x.name(field)} IN (${allowed.map((state) => x.value(state)).join(', ')})`,
  broken: (item) => {
    const state = item?.[field];
    if (state === undefined || allowed.includes(String(state))) return undefined;
    return new InvalidStateError(`Not allowed while the ${what} is ${String(state)}.`, { state });
  },
});

/** The condition of a write made of `rules`. */
export const conditionOf = (x: ExpressionBuilder, rules: readonly Rule[], extra: readonly string[] = []) =>
  [...rules.map((rule) => rule.clause(x)), ...extra].map((clause) => `(${clause})`).join(' AND ');

/** The first rule `item` breaks, in the order the rules were given, or undefined. */
export const firstBroken = (rules: readonly Rule[], item: StoredItem | undefined): Error | undefined => {
  for (const rule of rules) {
    const error = rule.broken(item);
    if (error) return error;
  }
  return undefined;
};

export type FailedWrite = { applied: StoredItem; recognised: Recognised } | { refused: Error };

/**
 * What a failed write means, decided from the item as stored when it failed. When an earlier
 * attempt of this very write may have landed (`again`), the item is asked first: this attempt
 * applied (success, whatever was written since), or past what the item can tell
 * (OUTCOME_UNKNOWN). Otherwise the first rule it breaks, in the order given (404, 410, 423,
 * 412 …). A failure that breaks no rule is a bug, and says so.
 */
export const decideFailure = (
  item: StoredItem | undefined,
  rules: readonly Rule[],
  again?: AttemptTag,
): FailedWrite => {
  if (again) {
    const recognition = recognise(item, again);
    if (recognition === 'unknowable') return { refused: new OutcomeUnknownError() };
    if (recognition !== 'absent') return { applied: item as StoredItem, recognised: recognition.applied };
  }
  const refused = firstBroken(rules, item);
  if (refused) return { refused };
  throw new Error('A conditional write failed although every one of its rules held.');
};
