import { now as clockNow } from '../../../clock';
import { tableName } from '../../../db/table-name';
import { newAttempt } from '../../build/attempts';
import { decodeCursor, encodeCursor } from '../../build/cursor';
import { ExpressionBuilder } from '../../build/expression';
import { type EntitySpec, keyOf, listingIndex, newId, PK, RECORD_SK, SK } from '../../build/keys';
import {
  type Change,
  newRecordItem,
  type PublicRecord,
  toPublicRecord,
  type WriteContext,
} from '../../build/records';
import { changeRequest, createRequest, deleteRequest } from '../../build/requests';
import { listSearch, SEARCH_QUERIES, SEARCH_QUERY_ITEMS } from '../../build/search';
import { appliedChange, type Precondition, pinnedTo } from '../../build/version';
import { commit, itemUpdate, planFromRead, recordAnswer } from '../../once/commit';
import { pagedQuery, readItem } from '../../send/reads';
import { asAction } from '../../send/writes';

export interface WriteResult {
  record: PublicRecord;
  /** True when this answers a repeat of a request already applied under the same key. */
  replayed: boolean;
  /** The version this request wrote, when the record is answered as others left it since. */
  appliedVersion?: number;
}

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
  const x = new ExpressionBuilder();
  const filter = search?.filter(x);
  const { items, next } = await pagedQuery(
    {
      TableName: tableName(),
      IndexName: listingIndex.name,
      KeyConditionExpression: `${x.name(listingIndex.partitionKey)} = ${x.value(entity.type)}`,
      ...(filter ? { FilterExpression: filter } : {}),
      ScanIndexForward: false,
      ...x.attributes(),
    },
    {
      start: decoded && listingKeyOf(decoded),
      limit: options.limit,
      filtered: search ? { queries: SEARCH_QUERIES, items: SEARCH_QUERY_ITEMS } : undefined,
      keyAfter: listingKeyOf,
    },
  );
  const now = clockNow();
  const nextCursor = encodeCursor(next && { ...next, ...search?.mark });
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
