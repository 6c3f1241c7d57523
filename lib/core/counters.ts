import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import type { AppError } from '../errors';
import { NotFoundError, ValidationError } from '../errors';
import { allOf, ExpressionBuilder } from './expression';
import type { Idempotency } from './idempotency';
import { type TransactItem, transactOnce } from './idempotent-transaction';
import { type StoredItem, translateSdkError } from './sdk-errors';
import { type EntitySpec, goneError, keyOf, type PublicRecord, toPublicRecord } from './versioned-store';

/**
 * The most a counter (balance, stock) may hold either way. Far inside 2^53, so a counter
 * always reads back as an exact JavaScript number and a sum of two never rounds.
 */
export const COUNTER_LIMIT = 1_000_000_000_000_000;

/** One movement of one counter, and what its refusal means to the caller. */
export interface CounterMovement {
  entity: EntitySpec;
  id: string;
  /** The stored attribute: `balance`, `inStock`. */
  attribute: string;
  /** What the API calls the counter in a 422 detail: `balance`, `stock`. */
  label: string;
  /** Signed: what the movement adds to the counter. */
  delta: number;
  /** JSON Pointer of the body field that carries the movement, where a 422 for passing the limit points. */
  pointer: string;
  /**
   * Set for a counter that never goes below zero: the answer when it does not cover a
   * decrease. Without it the counter may go negative, down to −COUNTER_LIMIT.
   */
  notEnough?: (current: PublicRecord) => AppError;
}

/**
 * "Just don't read": a counter (balance, stock) changes with an atomic ADD inside a
 * transaction, never by read-modify-write, so concurrent movements never overwrite each
 * other, and it needs no version precondition, so it never conflicts with other edits.
 * Its floor and its limit are clauses of the same condition, so no number of movements at
 * once can take it past either.
 */
export const counterChange = (
  movement: CounterMovement,
  context: { actor: string; now: Date },
): TransactItem => {
  const { attribute, delta } = movement;
  const x = new ExpressionBuilder();
  const clauses = [
    // The record exists: a movement never creates one.
    `attribute_exists(${x.name('pk')})`,
    // A deleted record takes no movements.
    `attribute_not_exists(${x.name('deletedAt')})`,
  ];
  if (delta > 0) {
    // The counter stays at or below COUNTER_LIMIT after the ADD, an exact number in JSON.
    clauses.push(`${x.name(attribute)} <= ${x.value(COUNTER_LIMIT - delta)}`);
  } else if (movement.notEnough) {
    // The counter covers the movement: it never goes below zero, however many run at once.
    clauses.push(`${x.name(attribute)} >= ${x.value(-delta)}`);
  } else {
    // The counter stays at or above −COUNTER_LIMIT after the ADD, an exact number in JSON.
    clauses.push(`${x.name(attribute)} >= ${x.value(-COUNTER_LIMIT - delta)}`);
  }
  return {
    Update: {
      TableName: tableName(),
      Key: keyOf(movement.entity, movement.id),
      UpdateExpression: `ADD ${x.name(attribute)} ${x.value(delta)}, ${x.name('version')} ${x.value(1)} SET ${x.name('updatedAt')} = ${x.value(context.now.toISOString())}, ${x.name('updatedBy')} = ${x.value(context.actor)}`,
      ConditionExpression: allOf(clauses),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...x.attributes(),
    },
  };
};

/** The 422 for a movement that would take its counter past ±COUNTER_LIMIT. */
const limitError = (movement: CounterMovement): ValidationError =>
  new ValidationError([
    {
      pointer: movement.pointer,
      detail:
        movement.delta > 0
          ? `The ${movement.label} would rise above ${COUNTER_LIMIT}, the most it may hold.`
          : `The ${movement.label} would fall below -${COUNTER_LIMIT}, the least it may hold.`,
    },
  ]);

/**
 * What a failed `counterChange` means, from the item as it was stored when the condition
 * failed (ALL_OLD) and the movement's delta, clause by clause: no record, a deleted one,
 * not enough on it, or a movement that would pass the limit.
 */
export const explainCounterFailure = (item: StoredItem | undefined, movement: CounterMovement): never => {
  if (!item) throw new NotFoundError();
  if (item.deletedAt !== undefined) throw goneError(item);
  const value = Number(item[movement.attribute]);
  const { delta } = movement;
  if (delta > 0) {
    if (!(value <= COUNTER_LIMIT - delta)) throw limitError(movement);
  } else if (movement.notEnough) {
    if (!(value >= -delta)) throw movement.notEnough(toPublicRecord(item));
  } else if (!(value >= -COUNTER_LIMIT - delta)) {
    throw limitError(movement);
  }
  throw new Error('A counter change failed on a live record whose counter allowed it.');
};

/**
 * `transactOnce`'s explanation for a transaction whose first actions are the changes of
 * `movements`, in that order; any other action (a ledger entry, new by construction) failing
 * its condition is a bug.
 */
export const explainCounterFailures =
  (movements: readonly CounterMovement[]) =>
  (index: number, item: StoredItem | undefined): never => {
    const movement = movements[index];
    if (!movement) throw new Error(`Action ${index} of a counter transaction failed its condition.`);
    return explainCounterFailure(item, movement);
  };

/** The record after a movement, read consistently, for the answer's balance or stock. */
export const readCurrent = async (entity: EntitySpec, id: string): Promise<StoredItem> => {
  const { Item } = await db()
    .send(new GetCommand({ TableName: tableName(), Key: keyOf(entity, id), ConsistentRead: true }))
    .catch(translateSdkError);
  if (!Item) throw new NotFoundError();
  return Item;
};

/**
 * One counter movement, exactly once per key: the ADD and the key's record in one
 * transaction, then one consistent read for the value in the answer. `response` is what
 * the key's record keeps for a replay.
 */
export const moveCounter = async (
  movement: CounterMovement,
  response: Record<string, unknown>,
  idempotency: Idempotency,
  context: { actor: string; now: Date },
): Promise<{ value: number; replayed: boolean }> => {
  const { replayed } = await transactOnce(
    idempotency,
    [counterChange(movement, context)],
    response,
    explainCounterFailures([movement]),
    context,
  );
  const current = await readCurrent(movement.entity, movement.id);
  return { value: Number(current[movement.attribute]), replayed };
};
