import { tableName } from '../../../db/table-name';
import { NotFoundError, OutcomeUnknownError, ValidationError } from '../../../errors';
import type { AppError } from '../../../problems';
import { ExpressionBuilder } from '../../build/expression';
import type { StoredItem } from '../../build/items';
import type { Idempotency } from '../../build/key-record';
import { type EntitySpec, keyOf } from '../../build/keys';
import { type PublicRecord, toPublicRecord } from '../../build/records';
import { auditSets } from '../../build/requests';
import { conditionOf, type Rule, recordExists, recordLive } from '../../build/rules';
import { completeKeyRecord } from '../../once/claims';
import { commitOnce } from '../../once/commit';
import { readItem } from '../../send/reads';
import type { WriteAction } from '../../send/writes';

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
 * The counter stays within its bounds after the ADD: at or below COUNTER_LIMIT going up; at
 * or above zero going down for a counter that never goes negative (however many movements
 * run at once), else at or above −COUNTER_LIMIT. Broken: not enough, or past the limit.
 */
const withinBounds = (movement: CounterMovement, now: Date): Rule => {
  const { attribute, delta } = movement;
  const floor = movement.notEnough ? -delta : -COUNTER_LIMIT - delta;
  return {
    clause: (x) =>
      delta > 0
        ? `${x.name(attribute)} <= ${x.value(COUNTER_LIMIT - delta)}`
        : `${x.name(attribute)} >= ${x.value(floor)}`,
    broken: (item) => {
      if (!item) return undefined;
      const value = Number(item[attribute]);
      if (delta > 0) return value <= COUNTER_LIMIT - delta ? undefined : limitError(movement);
      if (value >= floor) return undefined;
      return movement.notEnough ? movement.notEnough(toPublicRecord(item, now)) : limitError(movement);
    },
  };
};

/**
 * "Just don't read": a counter (balance, stock) changes with an atomic ADD inside a
 * transaction, never by read-modify-write, so concurrent movements never overwrite each
 * other, and it needs no version precondition, so it never conflicts with other edits.
 */
export const counterChange = (
  movement: CounterMovement,
  context: { actor: string; now: Date },
): WriteAction => {
  const x = new ExpressionBuilder();
  const rules = [recordExists(), recordLive(context.now), withinBounds(movement, context.now)];
  return {
    request: {
      Update: {
        TableName: tableName(),
        Key: keyOf(movement.entity, movement.id),
        UpdateExpression: `ADD ${x.name(movement.attribute)} ${x.value(movement.delta)} SET ${auditSets(x, context).join(', ')}`,
        ConditionExpression: conditionOf(x, rules),
        ...x.attributes(),
      },
    },
    rules,
  };
};

/** The record after a movement, read consistently, for the answer's balance or stock. */
export const readCurrent = async (entity: EntitySpec, id: string): Promise<StoredItem> => {
  const item = await readItem(keyOf(entity, id));
  if (!item) throw new NotFoundError();
  return item;
};

/**
 * Commits counter movements (with whatever else the transaction holds, such as ledger
 * entries) once per key, then reads the counters for the answer and keeps it in the key's
 * record. The answer is given only once it is kept, and only one is ever kept: a repeat that
 * finds the movement committed but its answer not kept yet (the first attempt still on its
 * way, or stopped by throttling after its commit, a 503) reads and keeps it itself, and
 * whichever keeps it first decides it for the first attempt and every repeat alike. `answer`
 * builds the answer from the committed response and the counters read (by record id).
 */
export const moveCounters = async <R extends Record<string, unknown>>(
  movements: readonly CounterMovement[],
  others: readonly WriteAction[],
  response: R,
  idempotency: Idempotency,
  context: { actor: string; now: Date },
  answer: (response: R, values: Record<string, number>) => Record<string, unknown>,
): Promise<{ body: Record<string, unknown>; replayed: boolean }> => {
  const committed = await commitOnce(
    idempotency,
    [...movements.map((movement) => counterChange(movement, context)), ...others],
    response,
    context.now,
  );
  const stored = committed.response as R & { answer?: Record<string, unknown> };
  if (stored.answer) return { body: stored.answer, replayed: committed.replayed };
  // The movement is committed: an answer that cannot be completed now (the read or the
  // completion failing) is completed by the repeat with the same key, which OUTCOME_UNKNOWN
  // asks for; never an answer that says nothing was written.
  const kept = await (async () => {
    const items = await Promise.all(movements.map((movement) => readCurrent(movement.entity, movement.id)));
    const values = Object.fromEntries(
      movements.map((movement, index) => [movement.id, Number(items[index]?.[movement.attribute])]),
    );
    return completeKeyRecord(
      idempotency,
      { ...committed.response, answer: answer(committed.response, values) },
      context.now,
    );
  })().catch(() => {
    throw new OutcomeUnknownError();
  });
  return { body: kept.answer, replayed: committed.replayed };
};
