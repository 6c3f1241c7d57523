import { CHILD_AMOUNTS, CHILD_VERSIONS, WRITTEN_IN } from '../../build/children';
import type { ExpressionBuilder } from '../../build/expression';
import type { StoredItem } from '../../build/items';
import { type Change, withChange } from '../../build/records';
import type { Rule } from '../../build/rules';
import type { AggregateSpec, AggregateWrite, ChildWrite } from './spec';

/**
 * What an aggregate's header keeps of its children (build/children.ts): each child's version
 * and amount, written in the same transaction as the child. A child added or removed sets or
 * removes its own entries without a read; a write that read the whole aggregate may write them
 * all; a read is whole only when its children are the ones the header keeps, each as last
 * written.
 */

/** Every child's version and, where children have amounts, amount, by child id. */
export interface Kept {
  versions: Record<string, number>;
  amounts?: Record<string, number>;
}

/** Whether a change touches the fields a child's amount is made of. */
const movesAmount = (spec: AggregateSpec, change: Change): boolean =>
  spec.amount?.fields.some((field) => field in change.set || change.remove.includes(field)) ?? false;

const childIdOf = (spec: AggregateSpec, child: StoredItem) => String(child[spec.childIdField]);

/** A child's amount: an integer a double holds exactly, or a bug. */
const amountOf = (spec: AggregateSpec, child: Record<string, unknown>): number | undefined => {
  if (!spec.amount) return undefined;
  const amount = spec.amount.of(child);
  if (!Number.isSafeInteger(amount))
    throw new Error(`A ${spec.childName}'s amount must be an exact integer.`);
  return amount;
};

/**
 * What each child write leaves of its child, by child id: gone (undefined), or written, with
 * the amount it now has when the write sets it.
 */
const written = (
  spec: AggregateSpec,
  writes: readonly ChildWrite[],
): [string, { amount?: number | undefined } | undefined][] =>
  writes.map((child) => {
    if (child.kind === 'remove') return [child.childId, undefined];
    if (child.kind !== 'update') return [child.childId, { amount: amountOf(spec, child.fields) }];
    if (!movesAmount(spec, child.change)) return [child.childId, {}];
    if (!child.before) throw new Error(`A change of a ${spec.childName}'s amount needs it as read.`);
    return [child.childId, { amount: amountOf(spec, withChange(child.before, child.change)) }];
  });

/** What the header keeps after `writes`, made at `version`, from the children as read. */
export const keptAfter = (
  spec: AggregateSpec,
  children: readonly StoredItem[],
  writes: readonly ChildWrite[],
  version: number,
): Kept => {
  const versions = new Map(children.map((child) => [childIdOf(spec, child), Number(child[WRITTEN_IN] ?? 0)]));
  const amounts = new Map(children.map((child) => [childIdOf(spec, child), amountOf(spec, child)]));
  for (const [childId, entry] of written(spec, writes)) {
    if (!entry) {
      versions.delete(childId);
      amounts.delete(childId);
      continue;
    }
    versions.set(childId, version);
    if (entry.amount !== undefined) amounts.set(childId, entry.amount);
  }
  return {
    versions: Object.fromEntries(versions),
    ...(spec.amount ? { amounts: Object.fromEntries(amounts) as Record<string, number> } : {}),
  };
};

/** The header's attributes that keep `kept`. */
export const keptAttributes = (kept: Kept): Record<string, unknown> => ({
  [CHILD_VERSIONS]: kept.versions,
  ...(kept.amounts ? { [CHILD_AMOUNTS]: kept.amounts } : {}),
});

/**
 * The children a read and its header disagree about, by id: ones read that the header keeps at
 * another version or not at all, and ones it keeps that were not read. A Query that saw a
 * transaction half applied (the header after it, a child before it, or the other way round)
 * has some; so has an aggregate whose children were written past the API. A header stored
 * before it kept anything can only be held to its count: [''] when that differs.
 */
export const disagreeing = (
  spec: AggregateSpec,
  header: StoredItem,
  children: readonly StoredItem[],
): string[] => {
  const versions = header[CHILD_VERSIONS] as Record<string, unknown> | undefined;
  if (versions === undefined) {
    return Number(header[spec.countField] ?? children.length) === children.length ? [] : [''];
  }
  const read = new Set(children.map((child) => childIdOf(spec, child)));
  return [
    ...children
      .filter((child) => Number(versions[childIdOf(spec, child)]) !== Number(child[WRITTEN_IN] ?? 0))
      .map((child) => childIdOf(spec, child)),
    ...Object.keys(versions).filter((childId) => !read.has(childId)),
  ];
};

/**
 * A header stored before it kept its children: a child write alone cannot set its own entries
 * there. The writer reads the whole aggregate and writes them all.
 */
export class NothingKeptError extends Error {
  constructor() {
    super("The aggregate's header keeps nothing of its children yet.");
    this.name = 'NothingKeptError';
  }
}

/** The maps a header of this aggregate keeps. */
const keptMaps = (spec: AggregateSpec) => [CHILD_VERSIONS, ...(spec.amount ? [CHILD_AMOUNTS] : [])];

/** Whether the header keeps every map of its children. */
const keepsAll = (spec: AggregateSpec, header: StoredItem) =>
  keptMaps(spec).every((map) => header[map] !== undefined);

/** The header keeps its children, so one child's entries may be set or removed alone. */
const keepsChildren = (spec: AggregateSpec): Rule => ({
  clause: (x) =>
    keptMaps(spec)
      .map((map) => `attribute_exists(${x.name(map)})`)
      .join(' AND '),
  broken: (item) => (item && !keepsAll(spec, item) ? new NothingKeptError() : undefined),
});

/**
 * How a write made at `version` changes what its header keeps, and the rule that needs: every
 * entry from the aggregate as read (and `count`, the children there will be) when the write
 * asks for it (`whole`), the header keeps nothing yet or keeps it wrong; else the entries of
 * the children it writes.
 */
export const keptUpdates = (spec: AggregateSpec, write: AggregateWrite, version: number) => {
  const none = {
    set: (_x: ExpressionBuilder): string[] => [],
    remove: (_x: ExpressionBuilder): string[] => [],
  };
  const read = write.read;
  if (read && (write.whole || read.keptIsWrong || !keepsAll(spec, read.header))) {
    const after = keptAfter(spec, read.children, write.children, version);
    const all = keptAttributes(after);
    return {
      ...none,
      count: Object.keys(after.versions).length,
      set: (x: ExpressionBuilder) =>
        Object.entries(all).map(([name, value]) => `${x.name(name)} = ${x.value(value)}`),
      rules: [] as Rule[],
    };
  }
  const entries = written(spec, write.children);
  if (entries.length === 0) return { ...none, count: undefined, rules: [] as Rule[] };
  const at = (x: ExpressionBuilder, map: string, childId: string) => `${x.name(map)}.${x.name(childId)}`;
  return {
    set: (x: ExpressionBuilder) =>
      entries.flatMap(([childId, entry]) =>
        entry
          ? [
              `${at(x, CHILD_VERSIONS, childId)} = ${x.value(version)}`,
              ...(entry.amount === undefined
                ? []
                : [`${at(x, CHILD_AMOUNTS, childId)} = ${x.value(entry.amount)}`]),
            ]
          : [],
      ),
    remove: (x: ExpressionBuilder) =>
      entries.flatMap(([childId, entry]) =>
        entry
          ? []
          : [at(x, CHILD_VERSIONS, childId), ...(spec.amount ? [at(x, CHILD_AMOUNTS, childId)] : [])],
      ),
    count: undefined,
    rules: [keepsChildren(spec)],
  };
};
