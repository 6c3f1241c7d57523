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
import { listSearch, SEARCH_QUERIES, SEARCH_QUERY_ITEMS } from './search';
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

/** A list's query: the page size, the last page's cursor, and a search term. */
export interface ListOptions {
  limit: number;
  cursor?: string | undefined;
  q?: string | undefined;
}

const listingKey = [PK, SK, listingIndex.partitionKey, listingIndex.sortKey];
/** An item's start key in the listing index: its own key and its index key. */
const listingKeyOf = (item: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(listingKey.map((name) => [name, item[name]]));

/**
 * Lists live records of one type, newest first, a page at a time. Tombstones are not in the
 * index. Without `q`: one Query of `limit` items. With `q`: Queries of SEARCH_QUERY_ITEMS
 * items each, filtered by the search, one after the other until `limit` items matched, the
 * index ended or SEARCH_QUERIES were sent; the cursor then starts after the last item read
 * (or kept), and serves the same search only.
 */
export const listRecords = async (entity: EntitySpec, options: ListOptions): Promise<Page> => {
  const search = options.q === undefined ? undefined : listSearch(entity, options.q);
  const decoded = decodeCursor(options.cursor, {
    attributes: [...listingKey, ...Object.keys(search?.mark ?? {})],
    fixed: { [listingIndex.partitionKey]: entity.type, [SK]: RECORD_SK, ...search?.mark },
    prefixes: { [PK]: `${entity.type}#` },
  });
  let startKey = decoded && listingKeyOf(decoded);
  const items: StoredItem[] = [];
  for (let queries = 1; ; queries += 1) {
    const x = new ExpressionBuilder();
    const filter = search?.filter(x);
    const { Items = [], LastEvaluatedKey } = await db()
      .send(
        new QueryCommand({
          TableName: tableName(),
          IndexName: listingIndex.name,
          KeyConditionExpression: `${x.name(listingIndex.partitionKey)} = ${x.value(entity.type)}`,
          ...(filter ? { FilterExpression: filter } : {}),
          ScanIndexForward: false,
          Limit: search ? SEARCH_QUERY_ITEMS : options.limit,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          ...x.attributes(),
        }),
      )
      .catch(translateSdkError);
    const room = options.limit - items.length;
    items.push(...Items.slice(0, room));
    startKey = LastEvaluatedKey;
    // More matched than the page holds: the next page starts after the last one kept.
    if (Items.length > room) startKey = listingKeyOf(items.at(-1) as StoredItem);
    if (!search || !startKey || items.length === options.limit || queries === SEARCH_QUERIES) break;
  }
  const now = clockNow();
  const nextCursor = encodeCursor(startKey && { ...startKey, ...search?.mark });
  return {
    items: items.map((item) => toPublicRecord(item, now)),
    ...(nextCursor ? { nextCursor } : {}),
  };
};

/** One type's list, as its `GET /{resource}` calls it. */
export const listOf =
  (entity: EntitySpec) =>
  (options: ListOptions): Promise<Page> =>
    listRecords(entity, options);
