import {
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  TransactGetCommand,
} from '@aws-sdk/lib-dynamodb';
import { now as clockNow } from '../../clock';
import { tableName } from '../../db/table-name';
import { NotFoundError } from '../../errors';
import type { StoredItem } from '../build/items';
import { type EntitySpec, keyOf } from '../build/keys';
import { type PublicRecord, toPublicRecord } from '../build/records';
import { goneOrNotFound } from '../build/rules';
import { type Sent, sendWithRetries } from './send';
import { translateSdkError } from './translate';

/** Reads, retried like every request: a read changes nothing, so every failure may be sent again. */

/** The output of a read, retried like every request; THROTTLED when DynamoDB kept throttling. */
const read = async <O>(command: GetCommand | QueryCommand | TransactGetCommand): Promise<O> => {
  const sent: Sent<O> = await sendWithRetries<O>(() => command);
  if (sent.ok) return sent.output;
  return translateSdkError(sent.error);
};

/** Reads one item, strongly consistent, as stored (tombstones and bookkeeping included). */
export const readItem = async (key: Record<string, unknown>): Promise<StoredItem | undefined> => {
  const { Item } = await read<{ Item?: StoredItem }>(
    new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }),
  );
  return Item;
};

/**
 * Reads up to 100 items as of one moment (TransactGetItems, which no transaction is seen half
 * way through), as stored; undefined where there is no item.
 */
export const readTogether = async (
  keys: readonly Record<string, unknown>[],
): Promise<(StoredItem | undefined)[]> => {
  const { Responses } = await read<{ Responses?: { Item?: StoredItem }[] }>(
    new TransactGetCommand({ TransactItems: keys.map((Key) => ({ Get: { TableName: tableName(), Key } })) }),
  );
  return keys.map((_, index) => Responses?.[index]?.Item);
};

/** One page of a Query. */
export const queryPage = (input: QueryCommandInput): Promise<QueryCommandOutput> =>
  read<QueryCommandOutput>(new QueryCommand(input));

/** Every item a Query finds, page after page (more than one only past 1 MB). */
export const queryAll = async (input: QueryCommandInput): Promise<StoredItem[]> => {
  const items: StoredItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await queryPage({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) });
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};

/** Reads one record with a strongly consistent read; 404 if it never existed, 410 if deleted. */
export const getRecord = async (entity: EntitySpec, id: string, now = clockNow()): Promise<PublicRecord> => {
  const item = await readItem(keyOf(entity, id));
  if (!item) throw new NotFoundError();
  if (item.deletedAt !== undefined) throw goneOrNotFound(item, now);
  return toPublicRecord(item, now);
};

/** Where a page of a listing starts and how much it reads. */
export interface PageRead {
  /** The start key the page's cursor names (none: the first page). */
  start: Record<string, unknown> | undefined;
  /** Items a page holds at most. */
  limit: number;
  /** A filtered listing: up to `queries` Queries of `items` items each, one after the other, until the page is full. */
  filtered?: { queries: number; items: number } | undefined;
  /** The start key just after an item: where the next page starts when more matched than this one holds. */
  keyAfter: (item: StoredItem) => Record<string, unknown>;
}

/**
 * One page of a listing: a Query (or, filtered, a bounded number of them) from the start key
 * of the page's cursor, and the start key of the next page, if there is one. The one place a
 * Query is paged with a cursor; the cursor's encoding and the check of what it may name are
 * the caller's (build/cursor.ts).
 */
export const pagedQuery = async (
  input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  page: PageRead,
): Promise<{ items: StoredItem[]; next?: Record<string, unknown> }> => {
  const items: StoredItem[] = [];
  let next = page.start;
  for (let queries = 1; ; queries += 1) {
    const { Items = [], LastEvaluatedKey } = await queryPage({
      ...input,
      Limit: page.filtered ? page.filtered.items : page.limit,
      ...(next ? { ExclusiveStartKey: next } : {}),
    });
    const room = page.limit - items.length;
    items.push(...Items.slice(0, room));
    next = LastEvaluatedKey;
    // More matched than the page holds: the next page starts after the last one kept.
    if (Items.length > room) next = page.keyAfter(items.at(-1) as StoredItem);
    if (!page.filtered || !next || items.length === page.limit || queries === page.filtered.queries) break;
  }
  return { items, ...(next ? { next } : {}) };
};
