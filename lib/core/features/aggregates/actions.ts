import { tableName } from '../../../db/table-name';
import {
  AlreadyExistsError,
  InvalidStateError,
  NotFoundError,
  TooManyChangesError,
  ValidationError,
} from '../../../errors';
import { WRITTEN_IN } from '../../build/children';
import { allOf, ExpressionBuilder, updateExpression } from '../../build/expression';
import type { StoredItem } from '../../build/items';
import { keyOf, PK, SK } from '../../build/keys';
import type { WriteContext } from '../../build/records';
import { changeRequest } from '../../build/requests';
import { firstBroken, inState, type Rule } from '../../build/rules';
import { asAction, MAX_TRANSACTION_ITEMS, type WriteAction } from '../../send/writes';
import { keptUpdates } from './kept';
import type { AggregateSpec, AggregateWrite, ChildCount, ChildWrite } from './spec';

/**
 * The aggregate writer: the only code that writes an aggregate's children (an order's
 * lines). Every child write goes into one TransactWriteItems together with the header
 * update `version = :expected → version + 1`, so no child changes without the aggregate's
 * version changing with it, in the same transaction. Nothing else in lib builds a child key.
 */

export const childKey = (spec: AggregateSpec, id: string, childId: string) => ({
  [PK]: keyOf(spec, id)[PK] as string,
  [SK]: `${spec.childPrefix}${childId}`,
});

/** Children in the order they were added (`seq`), whatever their ids. */
export const inAddedOrder = (children: readonly StoredItem[]): StoredItem[] =>
  [...children].sort((a, b) => String(a.seq).localeCompare(String(b.seq)));

/** The `seq` of children added at `now`: sorts by time, then by position in the request. */
export const childSeq = (now: Date, position: number): string =>
  `${now.toISOString()}#${String(position).padStart(4, '0')}`;

const tooManyChildren = (spec: AggregateSpec) =>
  new ValidationError([
    { pointer: spec.childrenPointer, detail: `At most ${spec.maxChildren} ${spec.childName}s.` },
  ]);

/**
 * The aggregate stays within its size limit after the children a write adds. A full one is
 * refused for its state: 409 INVALID_STATE, with the count (`lineCount` for an order). It is
 * not a bad body: the body that adds a child is valid and names no list of children to point
 * at, and the same request succeeds once a child is removed.
 */
const roomFor = (spec: AggregateSpec, delta: number): Rule => ({
  clause: (x) => `${x.name(spec.countField)} <= ${x.value(spec.maxChildren - delta)}`,
  broken: (item) => {
    const count = Number(item?.[spec.countField]);
    if (!item || count + delta <= spec.maxChildren) return undefined;
    return new InvalidStateError(
      `The ${spec.type.toLowerCase()} has ${count} ${spec.childName}s, the most it may have is ${spec.maxChildren}.`,
      { [spec.countField]: count },
    );
  },
});

/** The header's rules beyond a record's own: its state, and room for what the write adds. */
export const headerRules = (
  spec: AggregateSpec,
  write: Pick<AggregateWrite, 'allowedStatuses' | 'childCount'>,
) => {
  const rules: Rule[] = [];
  if (write.allowedStatuses && spec.statusField) {
    rules.push(inState(spec.statusField, write.allowedStatuses, spec.type.toLowerCase()));
  }
  const count = write.childCount;
  if (count && 'delta' in count && count.delta > 0) rules.push(roomFor(spec, count.delta));
  return rules;
};

const countSet = (spec: AggregateSpec, count: ChildCount | undefined) => (x: ExpressionBuilder) => {
  if (!count) return [];
  if ('set' in count) return [`${x.name(spec.countField)} = ${x.value(count.set)}`];
  return [`${x.name(spec.countField)} = ${x.name(spec.countField)} + ${x.value(count.delta)}`];
};

/** A child that must exist: changing or removing a missing one is 404, never a new one. */
const childExists = (spec: AggregateSpec): Rule => ({
  clause: (x) => `attribute_exists(${x.name(PK)})`,
  broken: (item) => (item ? undefined : new NotFoundError(`No such ${spec.childName}.`)),
});

/** A new child never overwrites another. */
const childFree = (spec: AggregateSpec): Rule => ({
  clause: (x) => `attribute_not_exists(${x.name(PK)})`,
  broken: (item) =>
    item ? new AlreadyExistsError(`A ${spec.childName} with this id exists already.`) : undefined,
});

/** The transaction action of one child write (pure), made by the write that produces `version`. */
export const childAction = (
  spec: AggregateSpec,
  id: string,
  write: ChildWrite,
  version: number,
): WriteAction => {
  const key = childKey(spec, id, write.childId);
  const x = new ExpressionBuilder();
  const item = (fields: Record<string, unknown>) => ({
    ...key,
    [spec.childIdField]: write.childId,
    ...fields,
    [WRITTEN_IN]: version,
  });
  // Each child write is conditioned on its one rule; the clause is built after the
  // request's own names and values, so they share one ExpressionBuilder.
  const conditioned = (kind: 'Put' | 'Delete' | 'Update', rules: Rule[], input: object): WriteAction =>
    asAction(kind, {
      input: {
        TableName: tableName(),
        ...input,
        ConditionExpression: allOf(rules.map((rule) => rule.clause(x))),
        ...x.attributes(),
      },
      rules,
    });
  switch (write.kind) {
    case 'add':
      return conditioned('Put', [childFree(spec)], { Item: item(write.fields) });
    case 'replace':
      return conditioned('Put', [childExists(spec)], { Item: item(write.fields) });
    case 'remove':
      return conditioned('Delete', [childExists(spec)], { Key: key });
    case 'update': {
      const set = Object.entries({ ...write.change.set, [WRITTEN_IN]: version }).map(
        ([field, value]) => `${x.name(field)} = ${x.value(value)}`,
      );
      const remove = write.change.remove.map((field) => x.name(field));
      return conditioned('Update', [childExists(spec)], {
        Key: key,
        UpdateExpression: updateExpression(set, remove),
      });
    }
  }
};

/**
 * The actions of one aggregate write (pure): the header update with the version bump first,
 * then every child write, all for one transaction. Refuses what can never fit in one.
 */
export const aggregateActions = (
  spec: AggregateSpec,
  id: string,
  write: AggregateWrite,
  context: WriteContext,
): WriteAction[] => {
  // The same limit with a key and without: the key's record never takes a child's place.
  const items = 1 + write.children.length;
  if (items > MAX_TRANSACTION_ITEMS) throw new TooManyChangesError(items, MAX_TRANSACTION_ITEMS);
  if (write.childCount && 'set' in write.childCount && write.childCount.set > spec.maxChildren) {
    throw tooManyChildren(spec);
  }
  if (write.precondition.kind !== 'version') throw new Error('An aggregate write is pinned to a version.');
  // The version this write produces: what its children and the header's entries record.
  const version = write.precondition.version + 1;
  const kept = keptUpdates(spec, write, version);
  const header = changeRequest(spec, id, write.precondition, write.header, context, {
    pinned: write.pinned ?? false,
    rules: [...headerRules(spec, write), ...kept.rules],
    // A whole write counts the children too: the count is right even where it was not.
    set: (x) => [
      ...countSet(spec, kept.count === undefined ? write.childCount : { set: kept.count })(x),
      ...kept.set(x),
    ],
    remove: kept.remove,
  });
  return [
    asAction('Update', header),
    ...write.children.map((child) => childAction(spec, id, child, version)),
  ];
};

/** Checks the header's rules against the header as read, so a refused write sends nothing. */
export const assertHeaderAllows = (actions: readonly WriteAction[], header: StoredItem | undefined): void => {
  const refused = firstBroken(actions[0]?.rules ?? [], header);
  if (refused) throw refused;
};
