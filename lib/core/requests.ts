import type { PutCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../db/client';
import { attemptNotApplied, firstAttempt, recordAttempt } from './attempts';
import { ExpressionBuilder, updateExpression } from './expression';
import { type EntitySpec, epochSeconds, keyOf, listingIndex, TTL } from './keys';
import { type Change, type Precondition, TOMBSTONE_RETENTION_MS, type WriteContext } from './records';
import { atVersion, conditionOf, keyFree, lockFree, type Rule, recordExists, recordLive } from './rules';
import type { StoredItem } from './sdk-errors';
import { SEARCH, searchUpdate } from './search';

/**
 * Pure builders of the requests every record write sends: the exact input and the rules its
 * condition is made of (which also read its failure). The single-item writes send them with
 * an attempt id (`attemptId`); inside a transaction they go without one, as DynamoDB
 * recognises a transaction's retry by its token.
 */
export interface Built<I> {
  input: I;
  rules: Rule[];
}

/** What a change to an existing record must pass, in the order a failure is explained. */
export const changeRules = (
  precondition: Precondition,
  context: Pick<WriteContext, 'actor' | 'now' | 'lockToken'>,
  options: { change?: Change; pinned?: boolean } = {},
): Rule[] => [
  recordExists(),
  recordLive(context.now),
  lockFree(context),
  ...(precondition.kind === 'version'
    ? [atVersion(precondition.version, { now: context.now, change: options.change, pinned: options.pinned })]
    : []),
];

/** The PutItem of a new record's item. */
export const createRequest = (
  item: StoredItem,
  context: Pick<WriteContext, 'now'>,
  options: { attemptId?: string; takenDetail?: string } = {},
): Built<PutCommandInput> => {
  const x = new ExpressionBuilder();
  const rules = [keyFree(context.now, options.takenDetail)];
  return {
    input: {
      TableName: tableName(),
      Item: { ...item, ...(options.attemptId ? firstAttempt(options.attemptId) : {}) },
      ConditionExpression: conditionOf(x, rules),
      ...x.attributes(),
    },
    rules,
  };
};

export interface ChangeOptions {
  /** The single-item write's attempt id; none inside a transaction. */
  attemptId?: string;
  /** An `If-Match: *` change pinned to the version it read: a moved version means read again. */
  pinned?: boolean;
  /** Rules beyond the record's own (an aggregate's state and size). */
  rules?: readonly Rule[];
  /** SET clauses beyond the change's (an aggregate's child count). */
  set?: (x: ExpressionBuilder) => string[];
}

/** The version a versioned write produces; a write under `If-Match: *` does not know it. */
const producedVersion = (precondition: Precondition): number | undefined =>
  precondition.kind === 'version' ? precondition.version + 1 : undefined;

/**
 * A write without a version must not apply an attempt of its own twice (its response lost,
 * re-sent by the SDK); a versioned one cannot, as its version clause no longer holds.
 */
const attemptClauses = (x: ExpressionBuilder, precondition: Precondition, attemptId: string | undefined) =>
  attemptId && precondition.kind === 'any' ? [attemptNotApplied(x, attemptId)] : [];

const auditSets = (x: ExpressionBuilder, context: Pick<WriteContext, 'actor' | 'now'>): string[] => [
  `${x.name('version')} = ${x.name('version')} + ${x.value(1)}`,
  `${x.name('updatedAt')} = ${x.value(context.now.toISOString())}`,
  `${x.name('updatedBy')} = ${x.value(context.actor)}`,
];

/**
 * The UpdateItem of a change: its fields (with the search copy of a searched one), the
 * version bump and the audit fields, under its rules.
 */
export const changeRequest = (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  change: Change,
  context: WriteContext,
  options: ChangeOptions = {},
): Built<UpdateCommandInput> => {
  const x = new ExpressionBuilder();
  const rules = [
    ...changeRules(precondition, context, { change, pinned: options.pinned }),
    ...(options.rules ?? []),
  ];
  const search = searchUpdate(x, entity, id, change.set, change.remove);
  const set = [
    ...Object.entries(change.set).map(([field, value]) => `${x.name(field)} = ${x.value(value)}`),
    ...search.set,
    ...auditSets(x, context),
    ...(options.set?.(x) ?? []),
    ...(options.attemptId ? recordAttempt(x, options.attemptId, producedVersion(precondition)) : []),
  ];
  const condition = conditionOf(x, rules, attemptClauses(x, precondition, options.attemptId));
  return {
    input: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: updateExpression(set, [
        ...change.remove.map((field) => x.name(field)),
        ...search.remove,
      ]),
      ConditionExpression: condition,
      ...x.attributes(),
    },
    rules,
  };
};

/**
 * The UpdateItem of a delete: a tombstone that keeps who deleted it and when, answers 410
 * for the retention period, drops the record's fields and leaves the listing index.
 */
export const deleteRequest = (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  context: WriteContext,
  options: Pick<ChangeOptions, 'attemptId'> = {},
): Built<UpdateCommandInput> => {
  const x = new ExpressionBuilder();
  const rules = changeRules(precondition, context);
  const set = [
    `${x.name('deletedAt')} = ${x.value(context.now.toISOString())}`,
    `${x.name('deletedBy')} = ${x.value(context.actor)}`,
    `${x.name(TTL)} = ${x.value(epochSeconds(context.now) + TOMBSTONE_RETENTION_MS / 1000)}`,
    ...auditSets(x, context),
    ...(options.attemptId ? recordAttempt(x, options.attemptId, producedVersion(precondition)) : []),
  ];
  const remove = [
    listingIndex.partitionKey,
    listingIndex.sortKey,
    ...(entity.search ? [SEARCH] : []),
    ...entity.fields,
  ].map((field) => x.name(field));
  return {
    input: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: updateExpression(set, remove),
      ConditionExpression: conditionOf(x, rules, attemptClauses(x, precondition, options.attemptId)),
      ...x.attributes(),
    },
    rules,
  };
};
