import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import type { AppError } from '../errors';
import { NotFoundError } from '../errors';
import { allOf, ExpressionBuilder } from './expression';
import type { Idempotency } from './idempotency';
import { type TransactItem, transactOnce } from './idempotent-transaction';
import { type StoredItem, translateSdkError } from './sdk-errors';
import { type EntitySpec, goneError, keyOf, type PublicRecord, toPublicRecord } from './versioned-store';

/**
 * "Just don't read": a counter (balance, stock) changes with an atomic ADD inside a
 * transaction, never by read-modify-write, so concurrent movements never overwrite each
 * other, and it needs no version precondition, so it never conflicts with other edits.
 */
export const counterChange = (
  entity: EntitySpec,
  id: string,
  attribute: string,
  delta: number,
  context: { actor: string; now: Date },
  options: { neverBelowZero: boolean },
): TransactItem => {
  const x = new ExpressionBuilder();
  const clauses = [
    // The record exists: a movement never creates one.
    `attribute_exists(${x.name('pk')})`,
    // A deleted record takes no movements.
    `attribute_not_exists(${x.name('deletedAt')})`,
  ];
  if (options.neverBelowZero && delta < 0) {
    // The counter covers the movement: it never goes below zero, however many run at once.
    clauses.push(`${x.name(attribute)} >= ${x.value(-delta)}`);
  }
  return {
    Update: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: `ADD ${x.name(attribute)} ${x.value(delta)}, ${x.name('version')} ${x.value(1)} SET ${x.name('updatedAt')} = ${x.value(context.now.toISOString())}, ${x.name('updatedBy')} = ${x.value(context.actor)}`,
      ConditionExpression: allOf(clauses),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...x.attributes(),
    },
  };
};

/** What a failed counter change means: no record, a deleted one, or not enough on it. */
export const explainCounterFailure = (
  item: StoredItem | undefined,
  notEnough?: (current: PublicRecord) => AppError,
): never => {
  if (!item) throw new NotFoundError();
  if (item.deletedAt !== undefined) throw goneError(item);
  if (notEnough) throw notEnough(toPublicRecord(item));
  throw new Error('A counter change without a floor failed on a live record.');
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
 * transaction, then one consistent read for the value in the answer.
 */
export const moveCounter = async (
  entity: EntitySpec,
  id: string,
  attribute: string,
  delta: number,
  movement: Record<string, unknown>,
  options: { notEnough?: (current: PublicRecord) => AppError },
  idempotency: Idempotency,
  context: { actor: string; now: Date },
): Promise<{ value: number; replayed: boolean }> => {
  const { replayed } = await transactOnce(
    idempotency,
    [
      counterChange(entity, id, attribute, delta, context, {
        neverBelowZero: options.notEnough !== undefined,
      }),
    ],
    movement,
    (_index, item) => explainCounterFailure(item, options.notEnough),
    context,
  );
  const current = await readCurrent(entity, id);
  return { value: Number(current[attribute]), replayed };
};
