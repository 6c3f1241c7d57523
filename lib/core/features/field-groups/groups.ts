import { isDeepStrictEqual } from 'node:util';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../../../db/table-name';
import { ForbiddenError, ValidationError } from '../../../errors';
import type { FieldError } from '../../../problems';
import { ExpressionBuilder, updateExpression } from '../../build/expression';
import type { StoredItem } from '../../build/items';
import { type EntitySpec, keyOf } from '../../build/keys';
import type { WriteContext } from '../../build/records';
import { type AttemptOptions, attemptParts, auditSets, type Built } from '../../build/requests';
import { conditionOf, type Rule, recordExists, recordLive } from '../../build/rules';
import { searchUpdate } from '../../build/search';

/**
 * Field groups with owners (the "regular data" case of the seed article): one stored
 * record, split into groups that different departments own. A PATCH conflicts only with
 * changes to the same group, and a group already holding the new values is no conflict.
 * An entity is a declaration; this one machinery serves every entity declared this way.
 */
export interface FieldGroup {
  readonly fields: readonly string[];
  /** Roles allowed to change the group. */
  readonly owners: readonly string[];
}

export interface FieldGroupEntity extends EntitySpec {
  readonly groups: Readonly<Record<string, FieldGroup>>;
  /** Fields no PATCH may set (counters changed only by their own atomic routes). */
  readonly readOnly: readonly string[];
  /** Fields a PATCH may change but not remove. */
  readonly required: readonly string[];
}

export interface GroupPatch {
  /** The values the caller last read, for every field of every group `set` touches; null: absent. */
  base: Record<string, unknown>;
  /** The new values; null removes an optional field. */
  set: Record<string, unknown>;
}

export type GroupOutcome =
  | { status: 'applied' }
  | { status: 'unchanged' }
  | { status: 'conflict'; current: Record<string, unknown> }
  | { status: 'failed'; code: string };

export const groupOf = (entity: FieldGroupEntity, field: string): string | undefined =>
  Object.entries(entity.groups).find(([, group]) => group.fields.includes(field))?.[0];

export const present = (value: unknown): boolean => value !== null && value !== undefined;

/** The groups a patch touches, after the checks that make a bad patch change nothing. */
export const touchedGroups = (
  entity: FieldGroupEntity,
  patch: GroupPatch,
  roles: readonly string[],
): string[] => {
  const errors: FieldError[] = [];
  for (const field of Object.keys(patch.set)) {
    if (entity.readOnly.includes(field))
      errors.push({ pointer: `/set/${field}`, detail: 'This field is read-only.' });
    else if (!groupOf(entity, field)) errors.push({ pointer: `/set/${field}`, detail: 'Unknown field.' });
    else if (patch.set[field] === null && entity.required.includes(field)) {
      errors.push({ pointer: `/set/${field}`, detail: 'This field is required and cannot be removed.' });
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
  const touched = [...new Set(Object.keys(patch.set).map((field) => groupOf(entity, field) as string))];
  for (const name of touched) {
    for (const field of entity.groups[name]?.fields ?? []) {
      if (!(field in patch.base)) {
        errors.push({
          pointer: `/base/${field}`,
          detail: `base must hold every field of the ${name} group.`,
        });
      }
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
  const foreign = touched.filter(
    (name) => !entity.groups[name]?.owners.some((owner) => roles.includes(owner)),
  );
  if (foreign.length > 0) throw new ForbiddenError(`Your roles may not change: ${foreign.join(', ')}.`);
  return touched;
};

export const pick = (values: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(fields.map((field) => [field, present(values[field]) ? values[field] : null]));

/** Someone else changed the group since the caller read it. Never leaves the core. */
export class GroupConflict extends Error {
  constructor(readonly item: StoredItem) {
    super('The group was changed since it was read.');
    this.name = 'GroupConflict';
  }
}

/** Whether the stored item holds `value` in `field` (null: the field is absent). */
export const holds = (item: StoredItem, field: string, value: unknown): boolean =>
  present(value) ? isDeepStrictEqual(item[field], value) : item[field] === undefined;

/** Each field of the group still holds the caller's base value, or already the new one. */
const groupAsRead = (
  fields: readonly string[],
  base: Record<string, unknown>,
  next: Record<string, unknown>,
): Rule => ({
  clause: (x) =>
    fields
      .map((field) => {
        const accepted = [base[field], next[field]].map((value) =>
          present(value) ? `${x.name(field)} = ${x.value(value)}` : `attribute_not_exists(${x.name(field)})`,
        );
        const clause = [...new Set(accepted)].join(' OR ');
        // conditionOf wraps the whole; one field's clause needs no second pair.
        return fields.length > 1 ? `(${clause})` : clause;
      })
      .join(' AND '),
  broken: (item) => {
    if (!item) return undefined;
    return fields.every((field) => holds(item, field, base[field]) || holds(item, field, next[field]))
      ? undefined
      : new GroupConflict(item);
  },
});

/** The group holds the new values already, whoever wrote them: `unchanged`, nothing written. Never leaves the core. */
export class GroupAlreadyNew extends Error {
  constructor() {
    super('The group holds the new values already.');
    this.name = 'GroupAlreadyNew';
  }
}

/**
 * Not every field of the group holds its new value yet: a group someone else already set to
 * these values is left alone (`unchanged`, no version), as the value semantics of a field
 * group say, rather than written again.
 */
const groupNotYetNew = (fields: readonly string[], next: Record<string, unknown>): Rule => ({
  clause: (x) =>
    `NOT (${fields
      .map((field) =>
        present(next[field])
          ? `${x.name(field)} = ${x.value(next[field])}`
          : `attribute_not_exists(${x.name(field)})`,
      )
      .join(' AND ')})`,
  broken: (item) =>
    item && fields.every((field) => holds(item, field, next[field])) ? new GroupAlreadyNew() : undefined,
});

/** The UpdateItem of one group (pure): the whole group is written (with the search copy of a searched field), under its rules. */
export const groupRequest = (
  entity: FieldGroupEntity,
  id: string,
  fields: readonly string[],
  base: Record<string, unknown>,
  next: Record<string, unknown>,
  context: Pick<WriteContext, 'actor' | 'now'>,
  options: AttemptOptions = {},
): Built<UpdateCommandInput> => {
  const x = new ExpressionBuilder();
  const rules = [
    recordExists(),
    recordLive(context.now),
    groupAsRead(fields, base, next),
    groupNotYetNew(fields, next),
  ];
  const remove = fields.filter((field) => !present(next[field]));
  const search = searchUpdate(x, entity, id, next, remove);
  const attempt = attemptParts(x, options);
  const set = [
    ...fields
      .filter((field) => present(next[field]))
      .map((field) => `${x.name(field)} = ${x.value(next[field])}`),
    ...search.set,
    ...auditSets(x, context),
    ...attempt.sets,
  ];
  return {
    input: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: updateExpression(set, [...remove.map((field) => x.name(field)), ...search.remove]),
      ConditionExpression: conditionOf(x, rules, attempt.clauses),
      ...x.attributes(),
    },
    rules,
  };
};
