import { now as clockNow } from '../clock';
import { tableName } from '../db/client';
import type { StoredItem } from '../db/sdk-errors';
import { NotFoundError } from '../errors';
import { newAttempt } from './attempts';
import { commit, type ItemChange, type Plan } from './commit';
import { decodeCursor, encodeCursor } from './cursor';
import { ExpressionBuilder } from './expression';
import { type EntitySpec, keyOf, listingIndex, newId, PK, RECORD_SK, SK } from './keys';
import { type Change, newRecordItem, type PublicRecord, toPublicRecord, type WriteContext } from './records';
import { changeRequest, createRequest, deleteRequest } from './requests';
import { firstBroken, goneOrNotFound } from './rules';
import { listSearch, SEARCH_QUERIES, SEARCH_QUERY_ITEMS } from './search';
import { appliedChange, appliedVersionOf, attemptUnder, type Precondition, pinnedTo } from './version';
import { asAction, type ItemWritten, queryPage, readItem, type WriteAction } from './writes';

export interface WriteResult {
  record: PublicRecord;
  /** True when this answers a repeat of a request already applied under the same key. */
  replayed: boolean;
  /** The version this request wrote, when the record is answered as others left it since. */
  appliedVersion?: number;
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
 * A single-item change of a record, answered with the record it leaves: as written, or, for
 * an attempt recognised as applied after its answer was lost, as it is now, with the
 * version this change wrote when others changed it since.
 */
export const recordAnswer =
  <R>(now: Date, wrap: (record: PublicRecord) => R) =>
  (written: ItemWritten) => {
    const record = toPublicRecord(written.item, now);
    return { response: wrap(record), ...appliedVersionOf(record, written.recognised) };
  };

/** The keyless form of a change to one item: one UpdateItem carrying its attempt. */
export const itemUpdate =
  <R>(
    precondition: Precondition,
    build: (attempt: {
      tag: ReturnType<typeof attemptUnder>;
      again: boolean;
    }) => ReturnType<typeof changeRequest>,
    answer: ItemChange<R>['answer'],
  ): (() => ItemChange<R>) =>
  () => {
    const tag = attemptUnder(precondition);
    return { kind: 'Update', tag, build: (again) => build({ tag, again }), answer };
  };

/**
 * Creates a record if its id is free: one PutItem that keeps its attempt on the new item
 * (recognised for good, and answered with the record as created), or, with an
 * Idempotency-Key, one transaction with the key's record, which keeps the first answer.
 */
export const createRecord = async (
  entity: EntitySpec,
  fields: Record<string, unknown>,
  context: WriteContext,
  options: { id?: string } = {},
): Promise<WriteResult> => {
  const item = newRecordItem(entity, options.id ?? newId(), fields, context);
  const record = toPublicRecord(item, context.now);
  const { response, replayed } = await commit(
    {
      item: () => {
        const tag = newAttempt('create');
        return {
          kind: 'Put',
          tag,
          build: (again) => createRequest(item, context, { attempt: { tag, again } }),
          answer: () => ({ response: { record } }),
        };
      },
      read: async () => undefined,
      plan: () => ({ actions: [asAction('Put', createRequest(item, context))], response: { record } }),
    },
    context,
  );
  return { record: response.record, replayed };
};

/** Reads one record with a strongly consistent read; 404 if it never existed, 410 if deleted. */
export const getRecord = async (entity: EntitySpec, id: string, now = clockNow()): Promise<PublicRecord> => {
  const item = await readItem(keyOf(entity, id));
  if (!item) throw new NotFoundError();
  if (item.deletedAt !== undefined) throw goneOrNotFound(item, now);
  return toPublicRecord(item, now);
};

/**
 * Applies a change if the precondition holds. Without a key: one UpdateItem, whose failed
 * condition returns the stored item in the same round trip (a conflict carries `current`;
 * an earlier attempt of this very change is recognised as applied). With a key: a read,
 * then the change and the key's record in one transaction pinned to the version read.
 */
export const changeRecord = async (
  entity: EntitySpec,
  id: string,
  precondition: Precondition,
  change: Change,
  context: WriteContext,
): Promise<WriteResult> => {
  const committed = await commit(
    {
      item: itemUpdate(
        precondition,
        (attempt) => changeRequest(entity, id, precondition, change, context, { attempt }),
        recordAnswer(context.now, (record) => ({ record })),
      ),
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
  return {
    record: committed.response.record,
    replayed: committed.replayed,
    ...(committed.appliedVersion === undefined ? {} : { appliedVersion: committed.appliedVersion }),
  };
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
): Promise<{ replayed: boolean }> => {
  const { replayed } = await commit(
    {
      item: itemUpdate(
        precondition,
        (attempt) => deleteRequest(entity, id, precondition, context, { attempt }),
        () => ({ response: {} }),
      ),
      read: async () => undefined,
      plan: () => ({
        actions: [asAction('Update', deleteRequest(entity, id, precondition, context))],
        response: {},
      }),
    },
    context,
  );
  return { replayed };
};

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
    const { Items = [], LastEvaluatedKey } = await queryPage({
      TableName: tableName(),
      IndexName: listingIndex.name,
      KeyConditionExpression: `${x.name(listingIndex.partitionKey)} = ${x.value(entity.type)}`,
      ...(filter ? { FilterExpression: filter } : {}),
      ScanIndexForward: false,
      Limit: search ? SEARCH_QUERY_ITEMS : options.limit,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      ...x.attributes(),
    });
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
