import type { PutCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../../db/table-name';
import { type AttemptTag, attemptClauses, createdBy, recordAttempt } from './attempts';
import { ExpressionBuilder, updateExpression } from './expression';
import type { StoredItem } from './items';
import { type EntitySpec, epochSeconds, keyOf, listingIndex, TTL } from './keys';
import { type Change, TOMBSTONE_RETENTION_MS, type WriteContext } from './records';
import { conditionOf, keyFree, lockFree, type Rule, recordExists, recordLive } from './rules';
import { SEARCH, searchUpdate } from './search';
import { atVersion, bumpVersion, nextVersion, type Precondition } from './version';

/**
 * Pure builders of the requests every record write sends: the exact input and the rules its
 * condition is made of (which also read its failure). A single-item write goes with its
 * attempt (`attempt`: the tag, and `again` when an earlier attempt may have landed), so it is
 * recognised when sent again; inside a transaction it goes without one, as DynamoDB
 * recognises a transaction sent again by its token.
 */
/** A built request: its input and the rules its condition is made of (which also read its failure). */
export interface Built<I> {
  input: I;
  rules: readonly Rule[];
}

export interface AttemptOptions {
  attempt?: { tag: AttemptTag; again: boolean } | undefined;
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
    ? [atVersion(precondition, { now: context.now, change: options.change, pinned: options.pinned })]
    : []),
];

/** The SET clauses every change carries: the version bump and who changed it when. */
export const auditSets = (x: ExpressionBuilder, context: Pick<WriteContext, 'actor' | 'now'>): string[] => [
  bumpVersion(x),
  `${x.name('updatedAt')} = ${x.value(context.now.toISOString())}`,
  `${x.name('updatedBy')} = ${x.value(context.actor)}`,
];

/**
 * The SET clauses and condition clauses of a change's attempt: it leaves itself on the item
 * (a change without a version with the version it produces beside it).
 */
export const attemptParts = (x: ExpressionBuilder, options: AttemptOptions) => {
  const attempt = options.attempt;
  if (!attempt) return { sets: [], clauses: [] };
  return {
    sets: recordAttempt(x, attempt.tag, (inner) => [nextVersion(inner)]),
    clauses: attemptClauses(x, attempt.tag, attempt.again),
  };
};

/** The PutItem of a new record's item (with its create attempt, when given). */
export const createRequest = (
  item: StoredItem,
  context: Pick<WriteContext, 'now'>,
  options: AttemptOptions & { takenDetail?: string } = {},
): Built<PutCommandInput> => {
  const x = new ExpressionBuilder();
  const rules = [keyFree(context.now, options.takenDetail)];
  const tag = options.attempt?.tag;
  return {
    input: {
      TableName: tableName(),
      Item: { ...item, ...(tag?.kind === 'create' ? createdBy(tag) : {}) },
      ConditionExpression: conditionOf(x, rules),
      ...x.attributes(),
    },
    rules,
  };
};

export interface ChangeOptions extends AttemptOptions {
  /** An `If-Match: *` change pinned to the version it read: a moved version means read again. */
  pinned?: boolean;
  /** Rules beyond the record's own (an aggregate's state and size). */
  rules?: readonly Rule[];
  /** SET clauses beyond the change's (an aggregate's child count, what it keeps of its children). */
  set?: (x: ExpressionBuilder) => string[];
  /** REMOVE clauses beyond the change's (what an aggregate's header kept of a removed child). */
  remove?: (x: ExpressionBuilder) => string[];
}

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
    ...changeRules(precondition, context, { change, pinned: options.pinned ?? false }),
    ...(options.rules ?? []),
  ];
  const attempt = attemptParts(x, options);
  const search = searchUpdate(x, entity, id, change.set, change.remove);
  const set = [
    ...Object.entries(change.set).map(([field, value]) => `${x.name(field)} = ${x.value(value)}`),
    ...search.set,
    ...auditSets(x, context),
    ...(options.set?.(x) ?? []),
    ...attempt.sets,
  ];
  return {
    input: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: updateExpression(set, [
        ...change.remove.map((field) => x.name(field)),
        ...search.remove,
        ...(options.remove?.(x) ?? []),
      ]),
      ConditionExpression: conditionOf(x, rules, attempt.clauses),
      ...x.attributes(),
    },
    rules,
  };
};

/**
 * The UpdateItem of a delete: a tombstone that keeps who deleted it and when, answers 410
 * for the retention period and leaves the listing index. It keeps the record's last fields
 * until DynamoDB's TTL removes it, so a change recognised as applied after its answer was
 * lost can still answer with the record as it is now (deleted since).
 */
export const deleteRequest = (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  context: WriteContext,
  options: AttemptOptions = {},
): Built<UpdateCommandInput> => {
  const x = new ExpressionBuilder();
  const rules = changeRules(precondition, context);
  const attempt = attemptParts(x, options);
  const set = [
    `${x.name('deletedAt')} = ${x.value(context.now.toISOString())}`,
    `${x.name('deletedBy')} = ${x.value(context.actor)}`,
    `${x.name(TTL)} = ${x.value(epochSeconds(context.now) + TOMBSTONE_RETENTION_MS / 1000)}`,
    ...auditSets(x, context),
    ...attempt.sets,
  ];
  const remove = [listingIndex.partitionKey, listingIndex.sortKey, ...(entity.search ? [SEARCH] : [])].map(
    (field) => x.name(field),
  );
  return {
    input: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: updateExpression(set, remove),
      ConditionExpression: conditionOf(x, rules, attempt.clauses),
      ...x.attributes(),
    },
    rules,
  };
};
