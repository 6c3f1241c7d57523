import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { now as clockNow } from '../clock';
import { db, tableName } from '../db/client';
import { NotFoundError } from '../errors';
import { newAttemptId } from './attempts';
import { commitOnce, type Plan, updateItemOnce, updateOnce } from './commit';
import { decodeCursor, encodeCursor } from './cursor';
import { ExpressionBuilder } from './expression';
import { type EntitySpec, keyOf, listingIndex, newId, PK, RECORD_SK, SK } from './keys';
import {
  appliedChange,
  type Change,
  newRecordItem,
  type Precondition,
  type PublicRecord,
  toPublicRecord,
  type WriteContext,
} from './records';
import { changeRequest, createRequest, deleteRequest } from './requests';
import { firstBroken, goneOrNotFound } from './rules';
import { type StoredItem, translateSdkError } from './sdk-errors';
import { asAction, putItem, readItem, type WriteAction } from './writes';

export interface WriteResult {
  record: PublicRecord;
  /** True when this answers a repeat of a request already applied under the same key. */
  replayed: boolean;
}

/**
 * A plan made from an item as read: its rules are checked against the read first, so a
 * request the read already refuses writes nothing, then the write goes with the same rules.
 */
export const planFromRead = <R>(
  item: StoredItem | undefined,
  actions: readonly WriteAction[],
  response: (item: StoredItem) => R,
): Plan<R> => {
  const refused = firstBroken(actions[0]?.rules ?? [], item);
  if (refused) throw refused;
  return { actions, response: response(item as StoredItem) };
};

/**
 * Creates a record if its id is free: one PutItem, or, with an Idempotency-Key, one
 * transaction with the key's record, which keeps the first answer for the key's window.
 */
export const createRecord = async (
  entity: EntitySpec,
  fields: Record<string, unknown>,
  context: WriteContext,
  options: { id?: string } = {},
): Promise<WriteResult> => {
  const item = newRecordItem(entity, options.id ?? newId(), fields, context);
  const record = toPublicRecord(item, context.now);
  if (context.idempotency) {
    const { response, replayed } = await commitOnce(
      context.idempotency,
      [asAction('Put', createRequest(item, context))],
      { record },
      context.now,
    );
    return { record: response.record, replayed };
  }
  const attemptId = newAttemptId();
  const written = await putItem({ ...createRequest(item, context, { attemptId }), attemptId });
  return { record: toPublicRecord(written.item, context.now), replayed: false };
};

/** Reads one record with a strongly consistent read; 404 if it never existed, 410 if deleted. */
export const getRecord = async (entity: EntitySpec, id: string, now = clockNow()): Promise<PublicRecord> => {
  const item = await readItem(keyOf(entity, id));
  if (!item) throw new NotFoundError();
  if (item.deletedAt !== undefined) throw goneOrNotFound(item, now);
  return toPublicRecord(item, now);
};

/** The precondition a keyed change writes under: its own version, or `*` pinned to the version read. */
export const pinnedTo = (precondition: Precondition, item: StoredItem | undefined): Precondition => ({
  kind: 'version',
  version: precondition.kind === 'version' ? precondition.version : Number(item?.version ?? 0),
});

/**
 * Applies a change if the precondition holds. Without a key: one UpdateItem, whose failed
 * condition returns the stored item in the same round trip (a conflict carries `current`;
 * the SDK's retry of this very attempt is recognised as applied). With a key: a read, then
 * the change and the key's record in one transaction pinned to the version read.
 */
export const changeRecord = async (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  change: Change,
  context: WriteContext,
): Promise<WriteResult> => {
  const { response, replayed } = await updateItemOnce(
    {
      build: (attemptId) => changeRequest(entity, id, precondition, change, context, { attemptId }),
      answer: (written) => ({ record: toPublicRecord(written, context.now) }),
    },
    {
      read: () => readItem(keyOf(entity, id)),
      plan: (item) =>
        planFromRead(
          item,
          [
            asAction(
              'Update',
              changeRequest(entity, id, pinnedTo(precondition, item), change, context, {
                pinned: precondition.kind === 'any',
              }),
            ),
          ],
          (read) => ({ record: toPublicRecord(appliedChange(read, change, context), context.now) }),
        ),
    },
    context,
  );
  return { record: response.record, replayed };
};

/**
 * Deletes a record, leaving a tombstone. Without a key: one UpdateItem; with one: one
 * transaction with the key's record (a delete answers no body, so nothing needs reading).
 */
export const deleteRecord = async (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  context: WriteContext,
): Promise<{ replayed: boolean }> =>
  updateOnce(
    (attemptId) => deleteRequest(entity, id, precondition, context, attemptId ? { attemptId } : {}),
    context,
  );

export interface Page {
  items: PublicRecord[];
  nextCursor?: string;
}

/** Lists live records of one type, newest first, a page at a time. Tombstones are not in the index. */
export const listRecords = async (
  entity: EntitySpec,
  options: { limit: number; cursor?: string | undefined },
): Promise<Page> => {
  const startKey = decodeCursor(options.cursor, {
    attributes: [PK, SK, listingIndex.partitionKey, listingIndex.sortKey],
    fixed: { [listingIndex.partitionKey]: entity.type, [SK]: RECORD_SK },
    prefixes: { [PK]: `${entity.type}#` },
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
  const now = clockNow();
  const nextCursor = encodeCursor(LastEvaluatedKey);
  return {
    items: (Items ?? []).map((item) => toPublicRecord(item, now)),
    ...(nextCursor ? { nextCursor } : {}),
  };
};
