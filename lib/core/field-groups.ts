import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import {
  type FieldError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  NotFoundError,
  PartialConflictError,
  ValidationError,
} from '../errors';
import { allOf, ExpressionBuilder, updateExpression } from './expression';
import { IDEMPOTENCY_WINDOW_MS, type Idempotency, type IdempotencyMarker, markerFor } from './idempotency';
import { conditionFailure, type StoredItem, translateSdkError } from './sdk-errors';
import {
  assertNotDeleted,
  type EntitySpec,
  getRecord,
  keyOf,
  type PublicRecord,
  toPublicRecord,
} from './versioned-store';

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
  | { status: 'conflict'; current: Record<string, unknown> };

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

/** Who writes, when, and under which Idempotency-Key, if any. */
export interface GroupWriteContext {
  actor: string;
  now: Date;
  idempotency?: Idempotency | undefined;
}

/**
 * The attribute where a group's last write leaves its request's marker: the Idempotency-Key
 * (or, without one, a nonce of the request), so a write retried after its answer was lost,
 * by the SDK or with its key, is recognised instead of applied again.
 */
const groupMarkerAttribute = (group: string): string => `idem@group:${group}`;

/**
 * One conditional UpdateItem for one group: the whole group is written, and each of its
 * fields must still hold the caller's base value or already the new one.
 */
const writeGroup = async (
  entity: FieldGroupEntity,
  id: string,
  group: { name: string; fields: readonly string[] },
  base: Record<string, unknown>,
  next: Record<string, unknown>,
  context: { actor: string; now: Date; marker: IdempotencyMarker },
): Promise<{ applied: StoredItem; replayed: boolean } | { conflict: StoredItem }> => {
  const { fields } = group;
  const markerName = groupMarkerAttribute(group.name);
  const windowStart = context.now.getTime() - IDEMPOTENCY_WINDOW_MS;
  const x = new ExpressionBuilder();
  const marker = x.name(markerName);
  const clauses = [
    // The record exists: a PATCH never creates one.
    `attribute_exists(${x.name('pk')})`,
    // A deleted record stays deleted.
    `attribute_not_exists(${x.name('deletedAt')})`,
    // This request has not written this group already (its answer lost, then retried).
    `attribute_not_exists(${marker}) OR ${marker}.${x.name('k')} <> ${x.value(context.marker.k)} OR ${marker}.${x.name('at')} < ${x.value(windowStart)}`,
  ];
  for (const field of fields) {
    const accepted = [base[field], next[field]].map((value) =>
      present(value) ? `${x.name(field)} = ${x.value(value)}` : `attribute_not_exists(${x.name(field)})`,
    );
    // Nobody changed this field since the caller read it (or it already holds the new value).
    clauses.push([...new Set(accepted)].join(' OR '));
  }
  const set = fields
    .filter((field) => present(next[field]))
    .map((field) => `${x.name(field)} = ${x.value(next[field])}`);
  set.push(
    `${x.name('version')} = ${x.name('version')} + ${x.value(1)}`,
    `${x.name('updatedAt')} = ${x.value(context.now.toISOString())}`,
    `${x.name('updatedBy')} = ${x.value(context.actor)}`,
    `${marker} = ${x.value(context.marker)}`,
  );
  const remove = fields.filter((field) => !present(next[field])).map((field) => x.name(field));
  try {
    const { Attributes } = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keyOf(entity, id),
        UpdateExpression: updateExpression(set, remove),
        ConditionExpression: allOf(clauses),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...x.attributes(),
      }),
    );
    return { applied: Attributes ?? {}, replayed: false };
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    if (!failure.item) throw new NotFoundError();
    assertNotDeleted(failure.item, context.now);
    const stored = failure.item[markerName] as IdempotencyMarker | undefined;
    if (stored?.k === context.marker.k && stored.at >= windowStart) {
      if (stored.h !== context.marker.h) throw new IdempotencyKeyReusedError();
      return { applied: failure.item, replayed: true };
    }
    return { conflict: failure.item };
  }
};

/**
 * Applies a field-group PATCH: per touched group, `unchanged` (no write) or one conditional
 * write of the whole group; all writes in flight at once, never one transaction, so one
 * group's conflict leaves the others applied. The record in the answer is the newest state
 * any of the writes returned; only a PATCH that writes nothing reads the record.
 */
export const patchGroups = async (
  entity: FieldGroupEntity,
  id: string,
  patch: GroupPatch,
  roles: readonly string[],
  context: GroupWriteContext,
): Promise<{ record: PublicRecord; groups: Record<string, 'applied' | 'unchanged'>; replayed: boolean }> => {
  const touched = touchedGroups(entity, patch, roles);
  // Without a key, a nonce of this request still tells the SDK's retry from a new write.
  const marker = markerFor(
    context.idempotency ?? { keyHash: randomBytes(16).toString('base64url'), requestHash: '' },
    context.now,
  );
  const outcomes = await Promise.all(
    touched.map(async (name) => {
      const fields = entity.groups[name]?.fields ?? [];
      const base = pick(patch.base, fields);
      const next = { ...base, ...pick({ ...base, ...patch.set }, fields) };
      if (isDeepStrictEqual(next, base)) return { name, unchanged: true as const };
      return {
        name,
        ...(await writeGroup(entity, id, { name, fields }, base, next, { ...context, marker })),
      };
    }),
  );
  const written = outcomes.filter((outcome) => 'applied' in outcome);
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
    } else groups[outcome.name] = { status: 'unchanged' };
  }
  const record = newest ? toPublicRecord(newest) : await getRecord(entity, id, context.now);
  if (Object.values(groups).some((outcome) => outcome.status === 'conflict')) {
    throw new PartialConflictError(groups, record);
  }
  return {
    record,
    // A repeat of a request already applied: every group it wrote was this request's write.
    replayed: written.length > 0 && written.every((outcome) => outcome.replayed),
    groups: Object.fromEntries(
      Object.entries(groups).map(([name, outcome]) => [name, outcome.status]),
    ) as Record<string, 'applied' | 'unchanged'>,
  };
};
