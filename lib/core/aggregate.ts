import {
  GetCommand,
  QueryCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import {
  AlreadyExistsError,
  IdempotencyKeyReusedError,
  InvalidStateError,
  NotFoundError,
  StaleDataError,
  TooManyChangesError,
  ValidationError,
} from '../errors';
import { allOf, ExpressionBuilder, updateExpression } from './expression';
import { markerMatch } from './idempotency';
import { assertNotLockedOut } from './lease-guard';
import { conditionFailure, type StoredItem, transactionCancellation, translateSdkError } from './sdk-errors';
import {
  appliedChange,
  assertNotDeleted,
  type Change,
  changeIsPresent,
  changeRequest,
  createRequest,
  type EntitySpec,
  goneError,
  keyOf,
  newId,
  newRecordItem,
  type Precondition,
  pinKeyedOverwrite,
  resolveFailedCreate,
  toPublicRecord,
  transactWrite,
  type WriteContext,
} from './versioned-store';

/**
 * The aggregate writer: the only code that writes an aggregate's children (an order's
 * lines). Every child write goes into one TransactWriteItems together with the header
 * update `version = :expected → version + 1`, so no child changes without the aggregate's
 * version changing with it, in the same transaction. Nothing else in lib builds a child key.
 */

/** An aggregate: a header record plus children stored in the header's partition. */
export interface AggregateSpec extends EntitySpec {
  /** Most children one aggregate may have. */
  readonly maxChildren: number;
  /** The header attribute naming the aggregate's state, if writes may depend on it. */
  readonly statusField?: string;
}

/** DynamoDB's limit on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

const CHILD_PREFIX = 'LINE#';
const COUNT = 'lineCount';

const childKey = (spec: AggregateSpec, id: string, childId: string) => ({
  pk: keyOf(spec, id).pk,
  sk: `${CHILD_PREFIX}${childId}`,
});

export type ChildWrite =
  /** A new child; never overwrites. */
  | { kind: 'add'; childId: string; fields: Record<string, unknown> }
  /** Replaces an existing child whole. */
  | { kind: 'replace'; childId: string; fields: Record<string, unknown> }
  /** Changes fields of an existing child, whose fields must still be those the caller read (`expect`). */
  | { kind: 'update'; childId: string; change: Change; expect: Record<string, unknown> }
  /** Removes an existing child. */
  | { kind: 'remove'; childId: string };

export interface AggregateWrite {
  /** A concrete version: transactions return nothing, so the answer's version is this + 1. */
  version: number;
  header: Change;
  children: readonly ChildWrite[];
  /** The header's status must be one of these. */
  allowedStatuses?: readonly string[];
  /** How the write changes the child count: to a known number, or by a delta (no read needed). */
  childCount?: { set: number } | { delta: number };
}

export interface Aggregate {
  header: StoredItem;
  children: StoredItem[];
}

export interface AggregateResult {
  /** The header after the write (only when the write was one UpdateItem, which returns it). */
  header?: StoredItem;
  version: number;
  replayed: boolean;
}

/** Reads the header and every child with one consistent Query (more only past 1 MB). */
export const readAggregate = async (
  spec: AggregateSpec,
  id: string,
  now = new Date(),
): Promise<Aggregate> => {
  const items: StoredItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const x = new ExpressionBuilder();
    const page = await db()
      .send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: `${x.name('pk')} = ${x.value(keyOf(spec, id).pk)}`,
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          ...x.attributes(),
        }),
      )
      .catch(translateSdkError);
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const header = items.find((item) => item.sk === keyOf(spec, id).sk);
  if (!header) throw new NotFoundError();
  if (header.deletedAt !== undefined && Number(header.expiresAt ?? 0) > Math.floor(now.getTime() / 1000)) {
    throw goneError(header);
  }
  if (header.deletedAt !== undefined) throw new NotFoundError();
  const children = items.filter((item) => String(item.sk).startsWith(CHILD_PREFIX));
  return { header, children };
};

/** Reads one child with a consistent GetItem; 404 if there is none. */
export const readChild = async (spec: AggregateSpec, id: string, childId: string): Promise<StoredItem> => {
  const { Item } = await db()
    .send(new GetCommand({ TableName: tableName(), Key: childKey(spec, id, childId), ConsistentRead: true }))
    .catch(translateSdkError);
  if (!Item) throw new NotFoundError('No such line.');
  return Item;
};

/** A child as the API shows it: its fields, without keys. */
export const toPublicChild = (item: StoredItem): Record<string, unknown> => {
  const { pk: _pk, sk: _sk, seq: _seq, ...fields } = item;
  return fields;
};

/** Children in the order they were added (`seq`), whatever their ids. */
export const inAddedOrder = (children: readonly StoredItem[]): StoredItem[] =>
  [...children].sort((a, b) => String(a.seq).localeCompare(String(b.seq)));

/** The `seq` of children added at `now`: sorts by time, then by position in the request. */
export const childSeq = (now: Date, position: number): string =>
  `${now.toISOString()}#${String(position).padStart(4, '0')}`;

/**
 * Creates the header and its first children in one transaction (or one PutItem when there
 * are none). A retry of a keyed create meets its own header and answers as a replay.
 */
export const createAggregate = async (
  spec: AggregateSpec,
  fields: Record<string, unknown>,
  children: readonly { childId: string; fields: Record<string, unknown> }[],
  context: WriteContext,
  naturalId?: string,
): Promise<{ header: StoredItem; replayed: boolean }> => {
  if (children.length + 1 > MAX_TRANSACTION_ITEMS)
    throw new TooManyChangesError(children.length + 1, MAX_TRANSACTION_ITEMS);
  const header = newRecordItem(spec, { ...fields, [COUNT]: children.length }, context, naturalId);
  const id = String(header.id);
  try {
    await transactWrite({
      TransactItems: [
        { Put: { ...createRequest(header, context), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
        ...children.map((child) => ({
          Put: {
            TableName: tableName(),
            Item: { ...childKey(spec, id, child.childId), lineId: child.childId, ...child.fields },
            // A new line never overwrites another.
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
      ],
    });
    return { header, replayed: false };
  } catch (error) {
    const stored = transactionCancellation(error)?.[0]?.item;
    if (!stored) return translateSdkError(error);
    const resolved = resolveFailedCreate(stored, { ...fields, [COUNT]: children.length }, context);
    if (!resolved) return createAggregate(spec, fields, children, context, newId());
    return { header: stored, replayed: resolved.replayed };
  }
};

const childRequest = (
  spec: AggregateSpec,
  id: string,
  write: ChildWrite,
): NonNullable<TransactWriteCommandInput['TransactItems']>[number] => {
  const key = childKey(spec, id, write.childId);
  const x = new ExpressionBuilder();
  switch (write.kind) {
    case 'add':
      return {
        Put: {
          TableName: tableName(),
          Item: { ...key, lineId: write.childId, ...write.fields },
          // A new line never overwrites another.
          ConditionExpression: `attribute_not_exists(${x.name('pk')})`,
          ...x.attributes(),
        },
      };
    case 'replace':
      return {
        Put: {
          TableName: tableName(),
          Item: { ...key, lineId: write.childId, ...write.fields },
          // The line still exists: a line removed meanwhile is 404, not silently recreated.
          ConditionExpression: `attribute_exists(${x.name('pk')})`,
          ...x.attributes(),
        },
      };
    case 'remove':
      return {
        Delete: {
          TableName: tableName(),
          Key: key,
          // The line exists: removing a missing line is 404.
          ConditionExpression: `attribute_exists(${x.name('pk')})`,
          ...x.attributes(),
        },
      };
    case 'update': {
      const clauses = [
        // The line exists: changing a missing line is 404, not a new line.
        `attribute_exists(${x.name('pk')})`,
        // Each field is still what the caller's change was computed from.
        ...Object.entries(write.expect).map(([field, value]) =>
          value === undefined
            ? `attribute_not_exists(${x.name(field)})`
            : `${x.name(field)} = ${x.value(value)}`,
        ),
      ];
      const set = Object.entries(write.change.set).map(
        ([field, value]) => `${x.name(field)} = ${x.value(value)}`,
      );
      const remove = write.change.remove.map((field) => x.name(field));
      return {
        Update: {
          TableName: tableName(),
          Key: key,
          UpdateExpression: updateExpression(set, remove),
          ConditionExpression: allOf(clauses),
          ...x.attributes(),
        },
      };
    }
  }
};

/** What a failed header condition means, in the order a caller can act on it. */
const resolveFailedHeader = (
  spec: AggregateSpec,
  item: StoredItem | undefined,
  write: Pick<AggregateWrite, 'allowedStatuses' | 'childCount'> & {
    precondition: Precondition;
    /** A header-only change: a stale request it would not change answers as applied. */
    headerOnly?: Change;
  },
  context: WriteContext,
): { replayed: boolean; header: StoredItem } => {
  if (!item) throw new NotFoundError();
  assertNotDeleted(item, context.now);
  // A request applied before answers as applied, whoever has locked the aggregate since.
  const match = markerMatch(item, context.idempotency, context.now);
  if (match === 'replay') return { replayed: true, header: item };
  if (match === 'reused') throw new IdempotencyKeyReusedError();
  assertNotLockedOut(item, context);
  // Already applied: a stale request whose change the header holds changes nothing. (A
  // current one goes on to the state check: the condition failed for another reason.)
  const stale = write.precondition.kind === 'version' && write.precondition.version < Number(item.version);
  if (stale && write.headerOnly && changeIsPresent(item, write.headerOnly))
    return { replayed: false, header: item };
  if (write.precondition.kind === 'version' && item.version !== write.precondition.version) {
    throw new StaleDataError(toPublicRecord(item));
  }
  const status = spec.statusField ? item[spec.statusField] : undefined;
  if (write.allowedStatuses && !write.allowedStatuses.includes(String(status))) {
    throw new InvalidStateError(`Not allowed while the ${spec.type.toLowerCase()} is ${String(status)}.`, {
      state: status,
    });
  }
  if (write.childCount && 'delta' in write.childCount) {
    if (Number(item[COUNT]) + write.childCount.delta > spec.maxChildren) throw tooManyChildren(spec);
  }
  throw new StaleDataError(toPublicRecord(item));
};

const tooManyChildren = (spec: AggregateSpec) =>
  new ValidationError([{ pointer: '/lines', detail: `An order has at most ${spec.maxChildren} lines.` }]);

const headerExtras = (
  spec: AggregateSpec,
  write: Pick<AggregateWrite, 'allowedStatuses' | 'childCount'>,
) => ({
  clauses: (x: ExpressionBuilder) => {
    const clauses: string[] = [];
    if (write.allowedStatuses && spec.statusField) {
      const allowed = write.allowedStatuses.map((status) => x.value(status)).join(', ');
      // The aggregate is in a state that allows this change (e.g. lines only while draft).
      clauses.push(`${x.name(spec.statusField)} IN (${allowed})`);
    }
    const count = write.childCount;
    if (count && 'delta' in count && count.delta > 0) {
      // The aggregate stays within its size limit after the children this write adds.
      clauses.push(`${x.name(COUNT)} <= ${x.value(spec.maxChildren - count.delta)}`);
    }
    return clauses;
  },
  set: (x: ExpressionBuilder) => {
    const count = write.childCount;
    if (!count) return [];
    if ('set' in count) return [`${x.name(COUNT)} = ${x.value(count.set)}`];
    return [`${x.name(COUNT)} = ${x.name(COUNT)} + ${x.value(count.delta)}`];
  },
});

/**
 * Changes only the header (no children), conditioned like every aggregate write; one
 * UpdateItem that returns the header as written.
 */
export const writeHeader = (
  spec: AggregateSpec,
  id: string,
  precondition: Precondition,
  write: Pick<AggregateWrite, 'header' | 'allowedStatuses'>,
  context: WriteContext,
): Promise<AggregateResult> =>
  pinKeyedOverwrite(
    spec,
    id,
    precondition,
    context,
    (pinned) => writePinnedHeader(spec, id, pinned, write, context),
    {
      request: (pinned) => ({
        Update: {
          ...changeRequest(spec, id, pinned, write.header, context, headerExtras(spec, write)),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      }),
      answer: (item) => {
        const header = appliedChange(item, write.header, context);
        return { header, version: Number(header.version), replayed: false };
      },
      // The state allows the write: otherwise INVALID_STATE, not another read.
      explain: (item) =>
        resolveFailedHeader(spec, item, { ...write, precondition: { kind: 'any' } }, context),
    },
  );

const writePinnedHeader = async (
  spec: AggregateSpec,
  id: string,
  precondition: Precondition,
  write: Pick<AggregateWrite, 'header' | 'allowedStatuses'>,
  context: WriteContext,
): Promise<AggregateResult> => {
  try {
    const { Attributes } = await db().send(
      new UpdateCommand({
        ...changeRequest(spec, id, precondition, write.header, context, headerExtras(spec, write)),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    const header = Attributes ?? {};
    return { header, version: Number(header.version), replayed: false };
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    const { header, replayed } = resolveFailedHeader(
      spec,
      failure.item,
      { ...write, precondition, headerOnly: write.header },
      context,
    );
    return { header, version: Number(header.version), replayed };
  }
};

/**
 * Writes children together with the header's version bump in one TransactWriteItems. A
 * cancelled transaction is explained from its reasons: the header's (stale, wrong state,
 * locked, replay) before a child's (a missing line is 404).
 */
export const writeAggregate = async (
  spec: AggregateSpec,
  id: string,
  write: AggregateWrite,
  context: WriteContext,
): Promise<AggregateResult> => {
  const items = 1 + write.children.length;
  if (items > MAX_TRANSACTION_ITEMS) throw new TooManyChangesError(items, MAX_TRANSACTION_ITEMS);
  if (write.childCount && 'set' in write.childCount && write.childCount.set > spec.maxChildren) {
    throw tooManyChildren(spec);
  }
  const precondition: Precondition = { kind: 'version', version: write.version };
  const extras = headerExtras(spec, write);
  try {
    await transactWrite({
      TransactItems: [
        {
          Update: {
            ...changeRequest(spec, id, precondition, write.header, context, extras),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        ...write.children.map((child) => childRequest(spec, id, child)),
      ],
    });
    return { version: write.version + 1, replayed: false };
  } catch (error) {
    const reasons = transactionCancellation(error);
    if (!reasons) return translateSdkError(error);
    const [headerReason, ...childReasons] = reasons;
    if (headerReason?.code === 'ConditionalCheckFailed') {
      const { header, replayed } = resolveFailedHeader(
        spec,
        headerReason.item,
        { ...write, precondition },
        context,
      );
      return { header, version: Number(header.version), replayed };
    }
    const failed = childReasons.findIndex((reason) => reason.code === 'ConditionalCheckFailed');
    const child = write.children[failed];
    if (child?.kind === 'add') throw new AlreadyExistsError('A line with this id exists already.');
    if (child) throw new NotFoundError('No such line.');
    return translateSdkError(error);
  }
};
