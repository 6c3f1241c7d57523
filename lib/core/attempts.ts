import { randomBytes } from 'node:crypto';
import type { ExpressionBuilder } from './expression';
import type { StoredItem } from './sdk-errors';

/**
 * How a single-item write recognises its own earlier attempt, by identity: every write
 * carries a random attempt id and leaves it on the item, in the same write. When the SDK
 * re-sends a write whose response was lost, the retry finds its own id on the item and
 * answers as applied, even when other writes landed in between; values are never compared.
 * (Transactions need none of this: DynamoDB itself recognises the SDK's retry of a
 * transaction by its ClientRequestToken.)
 *
 * A versioned write knows the version it produces, so its id goes into the ring slot of
 * that version (`ov@<version mod N>`): one SET, and its version clause already keeps it from
 * applying twice. A write without a version (`If-Match: *`, a field group, a lock) shifts
 * its id into a register of the last N such writes (`op@0` newest), and its condition
 * requires the id to be absent from it. Either way an id is remembered for the next
 * ATTEMPT_SLOTS writes of its kind; the SDK retries within seconds, so that many writes to
 * one item in that time is what it takes to forget one. A versioned write then answers a
 * false STALE_DATA, never applies twice; only a write without a version could.
 */
export const ATTEMPT_SLOTS = 8;

const VERSIONED = 'ov@';
const UNVERSIONED = 'op@';
const ringSlot = (version: number): string => `${VERSIONED}${version % ATTEMPT_SLOTS}`;
const registerSlot = (index: number): string => `${UNVERSIONED}${index}`;
const allSlots = Array.from({ length: ATTEMPT_SLOTS }, (_, index) => [
  ringSlot(index),
  registerSlot(index),
]).flat();

export const newAttemptId = (): string => randomBytes(12).toString('base64url');

export const isAttemptAttribute = (name: string): boolean =>
  name.startsWith(VERSIONED) || name.startsWith(UNVERSIONED);

/** The clause of a write without a version: this attempt is not among the last ones applied. */
export const attemptNotApplied = (x: ExpressionBuilder, attemptId: string): string => {
  const id = x.value(attemptId);
  const register = Array.from({ length: ATTEMPT_SLOTS }, (_, index) => registerSlot(index));
  return `NOT (${register.map((name) => `${x.name(name)} = ${id}`).join(' OR ')})`;
};

/**
 * The SET clauses that leave this attempt's id on the item: in the ring slot of the version
 * the write produces, or, without one, shifted into the register.
 */
export const recordAttempt = (x: ExpressionBuilder, attemptId: string, produces?: number): string[] => {
  if (produces !== undefined) return [`${x.name(ringSlot(produces))} = ${x.value(attemptId)}`];
  const none = x.value('');
  const shifts = Array.from({ length: ATTEMPT_SLOTS - 1 }, (_, index) => index + 1)
    .reverse()
    .map(
      (index) =>
        `${x.name(registerSlot(index))} = if_not_exists(${x.name(registerSlot(index - 1))}, ${none})`,
    );
  return [...shifts, `${x.name(registerSlot(0))} = ${x.value(attemptId)}`];
};

/** The attribute a new item (version 1) starts with. */
export const firstAttempt = (attemptId: string): StoredItem => ({ [ringSlot(1)]: attemptId });

/** Whether this attempt is one of the last writes the item took. */
export const isOwnAttempt = (item: StoredItem | undefined, attemptId: string | undefined): boolean =>
  item !== undefined && attemptId !== undefined && allSlots.some((name) => item[name] === attemptId);
