import { CHILD_AMOUNTS } from '../../build/amounts';
import { allOf, type ExpressionBuilder } from '../../build/expression';
import type { StoredItem } from '../../build/items';
import { type Change, withChange } from '../../build/records';
import { MovedError, type Rule } from '../../build/rules';
import type { AggregateSpec, AggregateWrite, ChildWrite } from './spec';

/**
 * The amounts an aggregate's header keeps for its children (an order's line totals), by child
 * id, written in the same transaction as the children: a child added or removed sets or
 * removes its own amount without a read, and a list shows each header's total.
 */

/** Whether a change touches the fields a child's amount is made of. */
export const movesAmount = (spec: AggregateSpec, change: Change): boolean =>
  spec.amount?.fields.some((field) => field in change.set || change.remove.includes(field)) ?? false;

/** The amount each child write leaves, by child id (undefined: the child is gone). */
const amountsWritten = (
  spec: AggregateSpec,
  children: readonly ChildWrite[],
): [string, number | undefined][] => {
  const amount = spec.amount;
  if (!amount) return [];
  const exact = (value: number) => {
    if (!Number.isSafeInteger(value))
      throw new Error(`A ${spec.childName}'s amount must be an exact integer.`);
    return value;
  };
  return children.flatMap((child): [string, number | undefined][] => {
    if (child.kind === 'remove') return [[child.childId, undefined]];
    if (child.kind !== 'update') return [[child.childId, exact(amount.of(child.fields))]];
    if (!movesAmount(spec, child.change)) return [];
    if (!child.before) throw new Error(`A change of a ${spec.childName}'s amount needs it as read.`);
    return [[child.childId, exact(amount.of(withChange(child.before, child.change)))]];
  });
};

/** Every child's amount after `writes`, from the children as read. */
export const amountsAfter = (
  spec: AggregateSpec,
  children: readonly StoredItem[],
  writes: readonly ChildWrite[],
): Record<string, number> => {
  const amounts = new Map<string, number | undefined>(
    children.map((child) => [String(child[spec.childIdField]), spec.amount?.of(child)]),
  );
  for (const [childId, amount] of amountsWritten(spec, writes)) amounts.set(childId, amount);
  return Object.fromEntries(
    [...amounts].filter((entry): entry is [string, number] => entry[1] !== undefined),
  );
};

/**
 * A header written before it kept its children's amounts: a child write alone cannot set its
 * own amount there. The writer reads the whole aggregate and writes every amount (allAmounts).
 */
export class AmountsNotKeptError extends Error {
  constructor() {
    super("The aggregate's header keeps no amounts yet.");
    this.name = 'AmountsNotKeptError';
  }
}

/** The header keeps its children's amounts, so one child's amount may be set or removed alone. */
const amountsKept: Rule = {
  clause: (x) => `attribute_exists(${x.name(CHILD_AMOUNTS)})`,
  broken: (item) => (item && item[CHILD_AMOUNTS] === undefined ? new AmountsNotKeptError() : undefined),
};

/** How a write changes the amounts its header keeps, and the rule that needs. */
export const amountUpdates = (spec: AggregateSpec, write: AggregateWrite) => {
  const none = { set: () => [], remove: () => [], rules: [] as Rule[] };
  if (!spec.amount) return none;
  const legacy = write.read && write.read.header[CHILD_AMOUNTS] === undefined;
  const all =
    write.allAmounts ?? (legacy ? amountsAfter(spec, write.read?.children ?? [], write.children) : undefined);
  if (all) return { ...none, set: (x: ExpressionBuilder) => [`${x.name(CHILD_AMOUNTS)} = ${x.value(all)}`] };
  const written = amountsWritten(spec, write.children);
  if (written.length === 0) return none;
  const path = (x: ExpressionBuilder, childId: string) => `${x.name(CHILD_AMOUNTS)}.${x.name(childId)}`;
  return {
    set: (x: ExpressionBuilder) =>
      written.flatMap(([childId, amount]) =>
        amount === undefined ? [] : [`${path(x, childId)} = ${x.value(amount)}`],
      ),
    remove: (x: ExpressionBuilder) =>
      written.flatMap(([childId, amount]) => (amount === undefined ? [path(x, childId)] : [])),
    rules: [amountsKept],
  };
};

/**
 * The child is as it was read, in the fields its amount is made of: the amount written with a
 * change of them is exact even when the read saw the aggregate half way through another
 * transaction. Otherwise the child moved on since the read: read again.
 */
export const childAsRead = (spec: AggregateSpec, before: StoredItem): Rule => {
  const fields = spec.amount?.fields ?? [];
  return {
    clause: (x) =>
      allOf(
        fields.map((field) =>
          before[field] === undefined
            ? `attribute_not_exists(${x.name(field)})`
            : `${x.name(field)} = ${x.value(before[field])}`,
        ),
      ),
    broken: (item) =>
      item && fields.some((field) => item[field] !== before[field]) ? new MovedError() : undefined,
  };
};
