import { isDeepStrictEqual } from 'node:util';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../db/client';
import {
  AppError,
  type FieldError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  PartialConflictError,
  ThrottledError,
  ValidationError,
  WriteContentionError,
} from '../errors';
import { attemptNotApplied, newAttemptId, recordAttempt } from './attempts';
import { commitOnce, onceInParts } from './commit';
import { ExpressionBuilder, updateExpression } from './expression';
import { forPart } from './idempotency';
import { type EntitySpec, keyOf } from './keys';
import { getRecord } from './record-store';
import { type PublicRecord, toPublicRecord, type WriteContext } from './records';
import type { Built } from './requests';
import { conditionOf, type Rule, recordExists, recordLive } from './rules';
import { partFailure, type StoredItem } from './sdk-errors';
import { searchUpdate } from './search';
import { asAction, updateItem } from './writes';

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

const groupOf = (entity: FieldGroupEntity, field: string): string | undefined =>
  Object.entries(entity.groups).find(([, group]) => group.fields.includes(field))?.[0];

const present = (value: unknown): boolean => value !== null && value !== undefined;

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

const pick = (values: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(fields.map((field) => [field, present(values[field]) ? values[field] : null]));

/** Someone else changed the group since the caller read it. Never leaves the core. */
class GroupConflict extends Error {
  constructor(readonly item: StoredItem) {
    super('The group was changed since it was read.');
    this.name = 'GroupConflict';
  }
}

/** Whether the stored item holds `value` in `field` (null: the field is absent). */
const holds = (item: StoredItem, field: string, value: unknown): boolean =>
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
class GroupAlreadyNew extends Error {
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
  attemptId?: string,
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
  const set = [
    ...fields
      .filter((field) => present(next[field]))
      .map((field) => `${x.name(field)} = ${x.value(next[field])}`),
    ...search.set,
    `${x.name('version')} = ${x.name('version')} + ${x.value(1)}`,
    `${x.name('updatedAt')} = ${x.value(context.now.toISOString())}`,
    `${x.name('updatedBy')} = ${x.value(context.actor)}`,
    ...(attemptId ? recordAttempt(x, attemptId) : []),
  ];
  return {
    input: {
      TableName: tableName(),
      Key: keyOf(entity, id),
      UpdateExpression: updateExpression(set, [...remove.map((field) => x.name(field)), ...search.remove]),
      // This very attempt has not been applied already (its response lost, re-sent by the SDK).
      ConditionExpression: conditionOf(x, rules, attemptId ? [attemptNotApplied(x, attemptId)] : []),
      ...x.attributes(),
    },
    rules,
  };
};

type Written =
  | { applied: StoredItem | undefined }
  | { conflict: StoredItem }
  | { failed: AppError }
  | { unchanged: true };

/**
 * One group's write. Without a key: one UpdateItem that returns the record as written.
 * With one: the group is a part of the request with its own key record, in one transaction
 * with the change, so the group is applied once however often the request is repeated and
 * whoever wrote the group in between. Throttling or contention on this group is reported
 * for this group alone.
 */
const writeGroup = async (
  entity: FieldGroupEntity,
  id: string,
  group: string,
  base: Record<string, unknown>,
  next: Record<string, unknown>,
  context: WriteContext,
  wrote?: () => void,
): Promise<Written> => {
  const fields = entity.groups[group]?.fields ?? [];
  try {
    if (context.idempotency) {
      await commitOnce(
        forPart(context.idempotency, `group:${group}`),
        [asAction('Update', groupRequest(entity, id, fields, base, next, context))],
        { status: 'applied' },
        context.now,
      );
      wrote?.();
      return { applied: undefined };
    }
    const attemptId = newAttemptId();
    const { item } = await updateItem({
      ...groupRequest(entity, id, fields, base, next, context, attemptId),
      attemptId,
    });
    return { applied: item };
  } catch (error) {
    if (error instanceof GroupConflict) return { conflict: error.item };
    if (error instanceof GroupAlreadyNew) return { unchanged: true };
    // This group alone failed: the others stand as written. (A key reused with another patch
    // meets this group's own record from the first request.)
    if (
      error instanceof ThrottledError ||
      error instanceof WriteContentionError ||
      error instanceof IdempotencyKeyReusedError ||
      !(error instanceof AppError)
    ) {
      return { failed: partFailure(error) };
    }
    // The record is gone or was never there: every group meets the same.
    throw error;
  }
};

export interface GroupPatchResult {
  record: PublicRecord;
  groups: Record<string, 'applied' | 'unchanged'>;
  replayed: boolean;
}

/**
 * Applies a field-group PATCH: per touched group, `unchanged` (no write) or one conditional
 * write of the whole group; all writes in flight at once, never one transaction, so one
 * group's conflict leaves the others applied. Without a key the record in the answer is the
 * newest state any write returned; with one it is read after the writes, and a fully
 * applied answer is kept under the key for its repeats.
 */
export const patchGroups = async (
  entity: FieldGroupEntity,
  id: string,
  patch: GroupPatch,
  roles: readonly string[],
  context: WriteContext,
): Promise<GroupPatchResult> => {
  const touched = touchedGroups(entity, patch, roles);
  const { idempotency, now } = context;
  const apply = async (wrote?: () => void): Promise<Omit<GroupPatchResult, 'replayed'>> => {
    const outcomes = await Promise.all(
      touched.map(async (name) => {
        const fields = entity.groups[name]?.fields ?? [];
        const base = pick(patch.base, fields);
        const next = { ...base, ...pick({ ...base, ...patch.set }, fields) };
        if (isDeepStrictEqual(next, base)) return { name, unchanged: true as const };
        return { name, ...(await writeGroup(entity, id, name, base, next, context, wrote)) };
      }),
    );
    const groups: Record<string, GroupOutcome> = {};
    let newest: StoredItem | undefined;
    for (const outcome of outcomes) {
      const item =
        'applied' in outcome ? outcome.applied : 'conflict' in outcome ? outcome.conflict : undefined;
      if (item && (!newest || Number(item.version) > Number(newest.version))) newest = item;
      if ('applied' in outcome) groups[outcome.name] = { status: 'applied' };
      else if ('conflict' in outcome) {
        const fields = entity.groups[outcome.name]?.fields ?? [];
        const current = Object.fromEntries(
          fields.filter((f) => present(outcome.conflict[f])).map((f) => [f, outcome.conflict[f]]),
        );
        groups[outcome.name] = { status: 'conflict', current };
      } else if ('failed' in outcome) groups[outcome.name] = { status: 'failed', code: outcome.failed.code };
      else groups[outcome.name] = { status: 'unchanged' };
    }
    const failures = outcomes.flatMap((outcome) => ('failed' in outcome ? [outcome.failed] : []));
    const written = outcomes.some((outcome) => 'applied' in outcome || 'conflict' in outcome);
    // Nothing was written and nothing conflicted: the failure is the whole request's answer.
    if (failures[0] && !written) throw failures[0];
    const record = newest && !idempotency ? toPublicRecord(newest, now) : await getRecord(entity, id, now);
    if (
      Object.values(groups).some((outcome) => outcome.status === 'conflict' || outcome.status === 'failed')
    ) {
      throw new PartialConflictError(groups, record);
    }
    const answer = {
      record,
      groups: Object.fromEntries(
        Object.entries(groups).map(([name, outcome]) => [name, outcome.status]),
      ) as Record<string, 'applied' | 'unchanged'>,
    };
    return answer;
  };
  if (!idempotency) return { ...(await apply()), replayed: false };
  const { response, replayed } = await onceInParts(idempotency, now, apply);
  return { ...response, replayed };
};
