import { randomBytes } from 'node:crypto';
import type { ExpressionBuilder } from './expression';
import type { StoredItem } from './sdk-errors';

/**
 * How a single-item write recognises its own earlier attempt, by identity: every write
 * carries a random attempt id, and the item keeps the ids of the last ATTEMPT_SLOTS
 * single-item writes in a shift register (`op@0` newest). When the SDK re-sends a write whose
 * response was lost, the retry finds its own id on the item and answers as applied, even
 * when other writes landed in between; values are never compared. (Transactions need none of
 * this: DynamoDB itself recognises the SDK's retry by its ClientRequestToken.)
 *
 * The SDK retries within seconds, so ATTEMPT_SLOTS writes to one item in that time is what it
 * takes to forget one: a versioned write then answers STALE_DATA (never applies twice, as its
 * version no longer matches); only a keyless `If-Match: *` write could apply again.
 */
export const ATTEMPT_SLOTS = 8;

const PREFIX = 'op@';
const slot = (index: number): string => `${PREFIX}${index}`;
const slots = Array.from({ length: ATTEMPT_SLOTS }, (_, index) => slot(index));

export const newAttemptId = (): string => randomBytes(12).toString('base64url');

export const isAttemptAttribute = (name: string): boolean => name.startsWith(PREFIX);

/** The clause: this attempt is not among the last writes of the item. */
export const attemptNotApplied = (x: ExpressionBuilder, attemptId: string): string => {
  const id = x.value(attemptId);
  return `NOT (${slots.map((name) => `${x.name(name)} = ${id}`).join(' OR ')})`;
};

/** The SET clauses that shift the register by one and put this attempt's id first. */
export const recordAttempt = (x: ExpressionBuilder, attemptId: string): string[] => {
  const none = x.value('');
  const shifts = slots
    .slice(1)
    .map((name, index) => `${x.name(name)} = if_not_exists(${x.name(slot(index))}, ${none})`)
    .reverse();
  return [...shifts, `${x.name(slot(0))} = ${x.value(attemptId)}`];
};

/** The attributes a new item starts its register with. */
export const firstAttempt = (attemptId: string): StoredItem => ({ [slot(0)]: attemptId });

/** Whether this attempt is one of the last writes the item took. */
export const isOwnAttempt = (item: StoredItem | undefined, attemptId: string | undefined): boolean =>
  item !== undefined && attemptId !== undefined && slots.some((name) => item[name] === attemptId);
