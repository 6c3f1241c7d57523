import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import { tableSpec } from '../db/table-spec';
import {
  AlreadyExistsError,
  AppError,
  BatchRejectedError,
  GoneError,
  IdempotencyKeyReusedError,
  NotFoundError,
  StaleDataError,
  WriteContentionError,
} from '../errors';
import { decodeCursor, encodeCursor } from './cursor';
import { allOf, ExpressionBuilder, updateExpression } from './expression';
import {
  CREATE_MARKER,
  forItem,
  IDEMPOTENCY_WINDOW_MS,
  type Idempotency,
  idFromKey,
  isMarkerAttribute,
  markerAttributes,
  markerFor,
  markerMatch,
  markerSlot,
} from './idempotency';
import { type TransactItem, transactOnce } from './idempotent-transaction';
import { activeLock, assertNotLockedOut, lockGuard } from './lease-guard';
import { mapWithConcurrency, retryWithBackoff } from './retry';
import {
  conditionFailure,
  isTransactionConflict,
  type StoredItem,
  transactionCancellation,
  translateSdkError,
} from './sdk-errors';

/** What the core needs to know of a kind of single-item versioned record. */
export interface EntitySpec {
  /** Key prefix, and the listing index's partition value. */
  readonly type: string;
  /** Every data field a record may have; a full replacement removes the ones it does not give. */
  readonly fields: readonly string[];
}

/** Who writes, when, and under which Idempotency-Key. */
export interface WriteContext {
  actor: string;
  now: Date;
  idempotency?: Idempotency | undefined;
  /** The caller's `Lock-Token`, if it sent one. */
  lockToken?: string | undefined;
}

/** The version a change is based on; `any` is `If-Match: *`, an explicit overwrite. */
export type Precondition = { kind: 'version'; version: number } | { kind: 'any' };

/** Fields to set and optional fields to remove. */
export interface Change {
  set: Record<string, unknown>;
  remove: readonly string[];
}

/** A JSON Merge Patch (RFC 7396) as a change: values are set, nulls remove. */
export const mergePatch = (patch: Record<string, unknown>): Change => ({
  set: Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== null && value !== undefined)),
  remove: Object.entries(patch)
    .filter(([, value]) => value === null)
    .map(([field]) => field),
});

/** A record as the API shows it: its fields plus id, version and audit fields. */
export type PublicRecord = { id: string; version: number } & Record<string, unknown>;

export interface WriteResult {
  record: PublicRecord;
  /** True when this answers a repeat of a request already applied under the same key. */
  replayed: boolean;
}

/** Attributes that are bookkeeping and never part of a record's public shape. */
const internalAttributes = new Set([
  'lock',
  'lockFence',
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'idem',
  'expiresAt',
  'deletedAt',
  'deletedBy',
]);

/** How long a tombstone answers 410 (API.md: at least 30 days). */
export const TOMBSTONE_RETENTION_MS = 35 * 24 * 60 * 60 * 1000;

/** Upper bound on conditional writes one batch keeps in flight. */
export const BATCH_CONCURRENCY = 10;

const RECORD_SK = 'RECORD';
const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
const listingIndex = tableSpec.globalIndexes[0];

export const keyOf = (entity: EntitySpec, id: string) => ({ pk: `${entity.type}#${id}`, sk: RECORD_SK });

/** URL-safe, 22 characters, 128 random bits. */
export const newId = (): string => randomBytes(16).toString('base64url');

const auditAttributes = ['version', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy'];

/**
 * The record as the API shows it, in a stable order: id, its fields, version and audit
 * fields, and who holds its lock while an unexpired one is held.
 */
export const toPublicRecord = (item: StoredItem, now = new Date()): PublicRecord => {
  const fields = Object.keys(item)
    .filter(
      (name) =>
        name !== 'id' &&
        !internalAttributes.has(name) &&
        !isMarkerAttribute(name) &&
        !auditAttributes.includes(name),
    )
    .sort();
  const record = Object.fromEntries(
    ['id', ...fields, ...auditAttributes]
      .filter((name) => item[name] !== undefined)
      .map((name) => [name, item[name]]),
  ) as PublicRecord;
  const lock = activeLock(item, now);
  if (lock) record.lock = { owner: lock.owner, expiresAt: lock.expiresAt };
  return record;
};

/** A tombstone past its retention is treated as absent, whatever TTL has deleted yet. */
const isLiveTombstone = (item: StoredItem, now: Date): boolean =>
  item.deletedAt !== undefined && Number(item.expiresAt ?? 0) > epochSeconds(now);

export const goneError = (item: StoredItem): GoneError =>
  new GoneError(String(item.deletedAt), String(item.deletedBy));

/** A deleted record answers 410 while its tombstone lasts, then 404 as if it never was. */
export const assertNotDeleted = (item: StoredItem, now: Date): void => {
  if (item.deletedAt === undefined) return;
  throw isLiveTombstone(item, now) ? goneError(item) : new NotFoundError();
};

/** Whether the stored item already holds everything the change asks for. */
export const changeIsPresent = (item: StoredItem, change: Change): boolean =>
  Object.entries(change.set).every(([field, value]) => isDeepStrictEqual(item[field], value)) &&
  change.remove.every((field) => item[field] === undefined);

/**
 * The clauses every change to an existing record must pass. Shared by single writes and
 * batch transactions, so the two cannot disagree about what "current" means.
 */
const changeGuards = (x: ExpressionBuilder, precondition: Precondition, context: WriteContext): string[] => {
  const clauses = [
    // A change never creates a record: it must exist.
    `attribute_exists(${x.name('pk')})`,
    // A deleted record stays deleted; its tombstone answers 410.
    `attribute_not_exists(${x.name('deletedAt')})`,
  ];
  if (precondition.kind === 'version') {
    // The caller's copy is current: nobody changed the record since the version it read.
    clauses.push(`${x.name('version')} = ${x.value(precondition.version)}`);
  }
  if (context.idempotency) clauses.push(...keyUnusedClauses(x, context));
  clauses.push(lockGuard(x, context));
  return clauses;
};

/**
 * A keyed write needs the version it is based on: its marker goes into the ring slot of the
 * version it produces. `If-Match: *` with a key is pinned to a version first (`pinKeyedOverwrite`).
 */
const pinned = (precondition: Precondition): number => {
  if (precondition.kind !== 'version') throw new Error('A keyed write must be pinned to a version.');
  return precondition.version;
};

/**
 * This request's key went with no other request on this record within the window: none of
 * the record's markers carries it. (The version clause already keeps the same request from
 * applying twice; these keep the key from serving two requests.)
 */
const keyUnusedClauses = (x: ExpressionBuilder, context: WriteContext): string[] => {
  const idempotency = context.idempotency as Idempotency;
  const key = x.value(idempotency.keyHash);
  const windowStart = x.value(context.now.getTime() - IDEMPOTENCY_WINDOW_MS);
  return markerAttributes.map((attribute) => {
    const marker = x.name(attribute);
    return `attribute_not_exists(${marker}) OR ${marker}.${x.name('k')} <> ${key} OR ${marker}.${x.name('at')} < ${windowStart}`;
  });
};

/** Leaves the key's marker in the ring slot of the version this write produces. */
const markerUpdates = (x: ExpressionBuilder, precondition: Precondition, context: WriteContext): string[] =>
  context.idempotency
    ? [
        `${x.name(markerSlot(pinned(precondition) + 1))} = ${x.value(markerFor(context.idempotency, context.now))}`,
      ]
    : [];

/** More conditions and updates on top of a change: what an aggregate's header adds. */
export interface ChangeExtras {
  clauses?: (x: ExpressionBuilder) => string[];
  set?: (x: ExpressionBuilder) => string[];
}

/** The UpdateItem input of a change, without ReturnValues: used alone and inside transactions. */
export const changeRequest = (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  change: Change,
  context: WriteContext,
  extras: ChangeExtras = {},
) => {
  const x = new ExpressionBuilder();
  const condition = allOf([...changeGuards(x, precondition, context), ...(extras.clauses?.(x) ?? [])]);
  const markers = markerUpdates(x, precondition, context);
  const set = Object.entries(change.set).map(([field, value]) => `${x.name(field)} = ${x.value(value)}`);
  set.push(
    `${x.name('version')} = ${x.name('version')} + ${x.value(1)}`,
    `${x.name('updatedAt')} = ${x.value(context.now.toISOString())}`,
    `${x.name('updatedBy')} = ${x.value(context.actor)}`,
    ...(extras.set?.(x) ?? []),
    ...markers,
  );
  const remove = change.remove.map((field) => x.name(field));
  return {
    TableName: tableName(),
    Key: keyOf(entity, id),
    UpdateExpression: updateExpression(set, remove),
    ConditionExpression: condition,
    ...x.attributes(),
  } satisfies UpdateCommandInput;
};

/**
 * Decides what a failed change means from the item as it was stored when the write failed:
 * missing, deleted, this very request applied before (replay), the key used for another
 * request, the change already there (success), or a real conflict carrying the current record.
 */
export const resolveFailedChange = (
  item: StoredItem | undefined,
  change: Change,
  precondition: Precondition,
  context: WriteContext,
): WriteResult => {
  if (!item) throw new NotFoundError();
  assertNotDeleted(item, context.now);
  // A request applied before answers as applied, whoever has locked the record since.
  const match = markerMatch(item, context.idempotency, context.now);
  if (match === 'replay') return { record: toPublicRecord(item), replayed: true };
  if (match === 'reused') throw new IdempotencyKeyReusedError();
  assertNotLockedOut(item, context);
  // Already applied, for a request based on an older version (one naming a version the
  // record never had is stale, whatever it holds).
  const future = precondition.kind === 'version' && precondition.version > Number(item.version);
  if (!future && changeIsPresent(item, change)) return { record: toPublicRecord(item), replayed: false };
  throw new StaleDataError(toPublicRecord(item));
};

/**
 * Creates a record if its key is free. With an Idempotency-Key the id comes from the key,
 * so a retried create meets its own first write and answers with it instead of a second record.
 */
export const createRecord = async (
  entity: EntitySpec,
  fields: Record<string, unknown>,
  context: WriteContext,
  options: { id?: string } = {},
): Promise<WriteResult> => {
  const item = newRecordItem(entity, fields, context, options.id);
  try {
    await db().send(
      new PutCommand({ ...createRequest(item, context), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
    );
    return { record: toPublicRecord(item), replayed: false };
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure?.item) return translateSdkError(error);
    const resolved = resolveFailedCreate(failure.item, fields, context, options);
    return resolved ?? createRecord(entity, fields, context, { id: newId() });
  }
};

/**
 * A new record's item at version 1. Without a natural id, a keyed create derives its id
 * from the key, so that a retry meets its own first write.
 */
export const newRecordItem = (
  entity: EntitySpec,
  fields: Record<string, unknown>,
  context: WriteContext,
  naturalId?: string,
): StoredItem => {
  const id = naturalId ?? (context.idempotency ? idFromKey(context.idempotency.keyHash) : newId());
  const now = context.now.toISOString();
  return {
    ...keyOf(entity, id),
    gsi1pk: entity.type,
    gsi1sk: `${now}#${id}`,
    id,
    ...fields,
    version: 1,
    createdAt: now,
    createdBy: context.actor,
    updatedAt: now,
    updatedBy: context.actor,
    // The create's marker is never dropped: a retried keyed create always finds its record.
    ...(context.idempotency ? { [CREATE_MARKER]: markerFor(context.idempotency, context.now) } : {}),
  };
};

/** The PutItem input of a create, without ReturnValues: used alone and inside transactions. */
export const createRequest = (item: StoredItem, context: WriteContext) => {
  const x = new ExpressionBuilder();
  const condition = [
    // The key is free: no record, or only a tombstone whose retention has run out.
    `attribute_not_exists(${x.name('pk')}) OR (attribute_exists(${x.name('deletedAt')}) AND ${x.name('expiresAt')} < ${x.value(epochSeconds(context.now))})`,
  ];
  return { TableName: tableName(), Item: item, ConditionExpression: allOf(condition), ...x.attributes() };
};

/**
 * What a create whose key was taken means: a replay of this very request, its own first
 * attempt retried by the SDK (success), a reused key (422), a taken natural key (409), or
 * undefined: a keyed create whose derived id is held by a key past its window, which may
 * go ahead under a fresh id.
 */
export const resolveFailedCreate = (
  stored: StoredItem,
  fields: Record<string, unknown>,
  context: WriteContext,
  options: { id?: string } = {},
): WriteResult | undefined => {
  const match = markerMatch(stored, context.idempotency, context.now);
  if (match === 'reused') throw new IdempotencyKeyReusedError();
  if (match === 'replay') {
    if (stored.deletedAt !== undefined) throw goneError(stored);
    return { record: toPublicRecord(stored), replayed: true };
  }
  // Our own first attempt in this very request, retried by the SDK after its response was
  // lost (a keyed create recognises its own write by the marker instead). Another request
  // for the same natural key, even the same caller's, is 409.
  const ownFirstWrite =
    !context.idempotency &&
    stored.deletedAt === undefined &&
    stored.version === 1 &&
    stored.createdBy === context.actor &&
    stored.createdAt === context.now.toISOString() &&
    changeIsPresent(stored, { set: fields, remove: [] });
  if (ownFirstWrite) return { record: toPublicRecord(stored), replayed: false };
  if (!options.id && context.idempotency) return undefined;
  throw new AlreadyExistsError();
};

/** Reads one item, strongly consistent, as stored (tombstones and bookkeeping included). */
const readItem = async (entity: EntitySpec, id: string): Promise<StoredItem | undefined> => {
  const { Item } = await db()
    .send(new GetCommand({ TableName: tableName(), Key: keyOf(entity, id), ConsistentRead: true }))
    .catch(translateSdkError);
  return Item;
};

/** Reads one record with a strongly consistent read; 404 if it never existed, 410 if deleted. */
export const getRecord = async (entity: EntitySpec, id: string, now = new Date()): Promise<PublicRecord> => {
  const item = await readItem(entity, id);
  if (!item) throw new NotFoundError();
  assertNotDeleted(item, now);
  return toPublicRecord(item);
};

/**
 * Applies a change to a record if the precondition holds, in one UpdateItem. A failed
 * condition returns the stored item in the same round trip, so a conflict carries `current`
 * without another read, and a stale request that would change nothing succeeds.
 */
export const changeRecord = (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  change: Change,
  context: WriteContext,
): Promise<WriteResult> =>
  pinKeyedOverwrite(
    entity,
    id,
    precondition,
    context,
    (pinnedPrecondition) => changePinned(entity, id, pinnedPrecondition, change, context),
    {
      request: (pinnedPrecondition) => ({
        Update: {
          ...changeRequest(entity, id, pinnedPrecondition, change, context),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      }),
      answer: (item) => ({ record: toPublicRecord(appliedChange(item, change, context)), replayed: false }),
    },
  );

/** Reads of a keyed `If-Match: *` write before it answers WRITE_CONTENTION. */
const PIN_ATTEMPTS = 4;

/** How a keyed `If-Match: *` write is made once it is pinned to the version it read. */
export interface KeyedOverwrite<T extends { replayed: boolean }> {
  /** The write as one transaction item, conditioned on the version read. */
  request: (pinnedPrecondition: Precondition) => TransactItem;
  /** The answer, computed from the item as read: the write applies to exactly that version. */
  answer: (item: StoredItem) => T;
  /** Throws what a failed condition means beyond a moved version (say, a state); optional. */
  explain?: (item: StoredItem) => void;
}

/**
 * Runs `write` under the precondition. `If-Match: *` with an Idempotency-Key instead reads
 * the record once, pins the write to the version it read (its marker goes into that
 * version's ring slot) and makes it in one transaction with the key's own record, as money
 * moves do: a repeat within 24 h gets the first answer from that record, however many
 * writes came since, and is never applied twice. A write that slips in between the read and
 * the transaction is no reason to refuse an overwrite: read again.
 */
export const pinKeyedOverwrite = async <T extends { replayed: boolean }>(
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  context: WriteContext,
  write: (pinnedPrecondition: Precondition) => Promise<T>,
  overwrite: KeyedOverwrite<T>,
): Promise<T> => {
  const { idempotency } = context;
  if (precondition.kind === 'version' || !idempotency) return write(precondition);
  for (let attempt = 1; attempt <= PIN_ATTEMPTS; attempt += 1) {
    const item = await readItem(entity, id);
    if (!item) throw new NotFoundError();
    if (markerMatch(item, idempotency, context.now) === 'reused') throw new IdempotencyKeyReusedError();
    try {
      const { response, replayed } = await transactOnce(
        idempotency,
        [overwrite.request({ kind: 'version', version: Number(item.version) })],
        overwrite.answer(item),
        (_index, failed) => {
          if (!failed) throw new NotFoundError();
          assertNotDeleted(failed, context.now);
          assertNotLockedOut(failed, context);
          overwrite.explain?.(failed);
          // The version moved since the read: read again.
          throw new StaleDataError(toPublicRecord(failed));
        },
        context,
      );
      return { ...response, replayed };
    } catch (error) {
      if (!(error instanceof StaleDataError)) throw error;
    }
  }
  throw new WriteContentionError(1);
};

/** The item a change makes of `item`: what a transaction, which returns nothing, wrote. */
export const appliedChange = (item: StoredItem, change: Change, context: WriteContext): StoredItem => {
  const next: StoredItem = {
    ...item,
    ...change.set,
    version: Number(item.version) + 1,
    updatedAt: context.now.toISOString(),
    updatedBy: context.actor,
  };
  for (const field of change.remove) delete next[field];
  return next;
};

/** changeRecord once its precondition is a version, or `*` without a key. */
const changePinned = async (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  change: Change,
  context: WriteContext,
): Promise<WriteResult> => {
  try {
    const { Attributes } = await db().send(
      new UpdateCommand({
        ...changeRequest(entity, id, precondition, change, context),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { record: toPublicRecord(Attributes ?? {}), replayed: false };
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    return resolveFailedChange(failure.item, change, precondition, context);
  }
};

/**
 * Deletes a record, leaving a tombstone that answers 410 for the retention period. The
 * tombstone keeps who deleted it and when, and drops out of the listing index.
 */
export const deleteRecord = (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  context: WriteContext,
): Promise<{ replayed: boolean }> =>
  pinKeyedOverwrite(
    entity,
    id,
    precondition,
    context,
    (pinnedPrecondition) => deletePinned(entity, id, pinnedPrecondition, context),
    {
      request: (pinnedPrecondition) => ({
        Update: {
          ...deleteRequest(entity, id, pinnedPrecondition, context),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      }),
      answer: () => ({ replayed: false }),
    },
  );

/** The UpdateItem input of a delete (a tombstone), without ReturnValues. */
const deleteRequest = (entity: EntitySpec, id: string, precondition: Precondition, context: WriteContext) => {
  const x = new ExpressionBuilder();
  const condition = allOf(changeGuards(x, precondition, context));
  const markers = markerUpdates(x, precondition, context);
  const set = [
    `${x.name('deletedAt')} = ${x.value(context.now.toISOString())}`,
    `${x.name('deletedBy')} = ${x.value(context.actor)}`,
    `${x.name('expiresAt')} = ${x.value(epochSeconds(context.now) + TOMBSTONE_RETENTION_MS / 1000)}`,
    `${x.name('version')} = ${x.name('version')} + ${x.value(1)}`,
    `${x.name('updatedAt')} = ${x.value(context.now.toISOString())}`,
    `${x.name('updatedBy')} = ${x.value(context.actor)}`,
    ...markers,
  ];
  const remove = ['gsi1pk', 'gsi1sk', ...entity.fields].map((field) => x.name(field));
  return {
    TableName: tableName(),
    Key: keyOf(entity, id),
    UpdateExpression: updateExpression(set, remove),
    ConditionExpression: condition,
    ...x.attributes(),
  } satisfies UpdateCommandInput;
};

const deletePinned = async (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  context: WriteContext,
): Promise<{ replayed: boolean }> => {
  try {
    await db().send(
      new UpdateCommand({
        ...deleteRequest(entity, id, precondition, context),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { replayed: false };
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    const item = failure.item;
    if (!item) throw new NotFoundError();
    const match = markerMatch(item, context.idempotency, context.now);
    if (match === 'replay') return { replayed: true };
    if (match === 'reused') throw new IdempotencyKeyReusedError();
    // Our own delete in this very request, retried by the SDK after its response was lost.
    if (item.deletedAt === context.now.toISOString() && item.deletedBy === context.actor) {
      return { replayed: false };
    }
    assertNotDeleted(item, context.now);
    assertNotLockedOut(item, context);
    throw new StaleDataError(toPublicRecord(item));
  }
};

export interface Page {
  items: PublicRecord[];
  nextCursor?: string;
}

/** Lists live records of one type, newest first, a page at a time. Tombstones are not in the index. */
export const listRecords = async (
  entity: EntitySpec,
  options: { limit: number; cursor?: string },
): Promise<Page> => {
  const startKey = decodeCursor(options.cursor, {
    attributes: ['pk', 'sk', listingIndex.partitionKey, listingIndex.sortKey],
    fixed: { [listingIndex.partitionKey]: entity.type, sk: RECORD_SK },
    prefixes: { pk: `${entity.type}#` },
  });
  const x = new ExpressionBuilder();
  const { Items, LastEvaluatedKey } = await db()
    .send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: listingIndex.name,
        KeyConditionExpression: `${x.name(listingIndex.partitionKey)} = ${x.value(entity.type)}`,
        ScanIndexForward: false,
        Limit: options.limit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        ...x.attributes(),
      }),
    )
    .catch(translateSdkError);
  const nextCursor = encodeCursor(LastEvaluatedKey);
  return { items: (Items ?? []).map((item) => toPublicRecord(item)), ...(nextCursor ? { nextCursor } : {}) };
};

export interface BatchUpdate {
  id: string;
  version: number;
  set: Record<string, unknown>;
}

export type BatchItemResult =
  | { id: string; status: 200; version: number }
  | { id: string; status: number; code: string; current?: PublicRecord };

export interface BatchResult {
  results: BatchItemResult[];
  /** True when every item repeats this very request's earlier write (same Idempotency-Key). */
  replayed: boolean;
}

const failedItem = (id: string, error: AppError): BatchItemResult => ({
  id,
  status: error.status,
  code: error.code,
  ...(error instanceof StaleDataError ? { current: error.current as PublicRecord } : {}),
});

/**
 * Applies each update on its own, with at most BATCH_CONCURRENCY writes in flight; every
 * item succeeds or fails by itself, and the results keep the request's order.
 */
export const changeEach = async (
  entity: EntitySpec,
  updates: readonly BatchUpdate[],
  context: WriteContext,
): Promise<BatchResult> => {
  const replayedIds = new Set<string>();
  const results = await mapWithConcurrency(
    updates,
    BATCH_CONCURRENCY,
    async (update): Promise<BatchItemResult> => {
      const itemContext = {
        ...context,
        idempotency: context.idempotency && forItem(context.idempotency, update.id),
      };
      try {
        const { record, replayed } = await changeRecord(
          entity,
          update.id,
          { kind: 'version', version: update.version },
          { set: update.set, remove: [] },
          itemContext,
        );
        if (replayed) replayedIds.add(update.id);
        return { id: update.id, status: 200, version: record.version };
      } catch (error) {
        if (error instanceof AppError) return failedItem(update.id, error);
        throw error;
      }
    },
  );
  return { results, replayed: replayedIds.size === updates.length };
};

/** Attempts of a transaction that collides with concurrent ones before answering WRITE_CONTENTION. */
export const TRANSACTION_ATTEMPTS = 4;

/**
 * Sends one TransactWriteItems, retrying only collisions with concurrent transactions
 * (the SDK does not), with full-jitter backoff; then WRITE_CONTENTION. Other
 * cancellations are rethrown for the caller to read their reasons.
 */
export const transactWrite = async (input: TransactWriteCommandInput): Promise<void> => {
  try {
    await retryWithBackoff(() => db().send(new TransactWriteCommand(input)), isTransactionConflict, {
      attempts: TRANSACTION_ATTEMPTS,
      baseMs: 20,
      capMs: 400,
    });
  } catch (error) {
    if (isTransactionConflict(error)) throw new WriteContentionError(1);
    throw error;
  }
};

/**
 * Applies all updates in one transaction or none. Items whose change is already there (or
 * that replay this very request) count as successes and are left out of a second attempt;
 * any real failure rejects the whole batch and names every failing id.
 */
export const changeAll = async (
  entity: EntitySpec,
  updates: readonly BatchUpdate[],
  context: WriteContext,
): Promise<BatchResult> => {
  const settled = new Map<string, BatchItemResult>();
  const replayedIds = new Set<string>();
  for (;;) {
    const pending = updates.filter((update) => !settled.has(update.id));
    const contexts = pending.map((update) => ({
      ...context,
      idempotency: context.idempotency && forItem(context.idempotency, update.id),
    }));
    try {
      if (pending.length > 0) {
        await transactWrite({
          TransactItems: pending.map((update, index) => ({
            Update: {
              ...changeRequest(
                entity,
                update.id,
                { kind: 'version', version: update.version },
                { set: update.set, remove: [] },
                contexts[index] as WriteContext,
              ),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          })),
        });
      }
      for (const update of pending)
        settled.set(update.id, { id: update.id, status: 200, version: update.version + 1 });
      return {
        results: updates.map((update) => settled.get(update.id) as BatchItemResult),
        replayed: replayedIds.size === updates.length,
      };
    } catch (error) {
      const reasons = transactionCancellation(error);
      if (!reasons) return translateSdkError(error);
      const failures: BatchItemResult[] = [];
      let firstError: AppError | undefined;
      pending.forEach((update, index) => {
        const reason = reasons[index];
        if (reason?.code !== 'ConditionalCheckFailed') return;
        try {
          const { record, replayed } = resolveFailedChange(
            reason.item,
            { set: update.set, remove: [] },
            { kind: 'version', version: update.version },
            contexts[index] as WriteContext,
          );
          if (replayed) replayedIds.add(update.id);
          settled.set(update.id, { id: update.id, status: 200, version: record.version });
        } catch (itemError) {
          if (!(itemError instanceof AppError)) throw itemError;
          firstError ??= itemError;
          failures.push(failedItem(update.id, itemError));
        }
      });
      if (firstError) throw new BatchRejectedError(firstError, failures);
      if (!reasons.some((reason) => reason.code === 'ConditionalCheckFailed'))
        return translateSdkError(error);
    }
  }
};
