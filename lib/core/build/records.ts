import { isDeepStrictEqual } from 'node:util';
import { isAttemptAttribute } from './attempts';
import { CHILD_AMOUNTS, CHILD_VERSIONS, TOTAL, totalOf, WRITTEN_IN } from './children';
import type { StoredItem } from './items';
import type { Idempotency } from './key-record';
import { type EntitySpec, keyOf, listingIndex, PK, SK, TTL } from './keys';
import { activeLock } from './locks';
import { SEARCH, searchAttributes } from './search';

/** A record as the API shows it: its fields plus id, version and audit fields. */
export type PublicRecord = { id: string; version: number } & Record<string, unknown>;

/** Who writes, when, under which Idempotency-Key and with which Lock-Token. */
export interface WriteContext {
  actor: string;
  now: Date;
  idempotency?: Idempotency | undefined;
  /** The caller's `Lock-Token`, if it sent one. */
  lockToken?: string | undefined;
}

/** Fields to set and optional fields to remove. */
export interface Change {
  set: Record<string, unknown>;
  remove: readonly string[];
}

export const noChange: Change = { set: {}, remove: [] };

/** The fields of `item` once `change` is made (no bookkeeping). */
export const withChange = (item: StoredItem, change: Change): StoredItem => {
  const next: StoredItem = { ...item, ...change.set };
  for (const field of change.remove) delete next[field];
  return next;
};

/** A JSON Merge Patch (RFC 7396) as a change: values are set, nulls remove. */
export const mergePatch = (patch: Record<string, unknown>): Change => ({
  set: Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== null && value !== undefined)),
  remove: Object.entries(patch)
    .filter(([, value]) => value === null)
    .map(([field]) => field),
});

/** How long a tombstone answers 410 (the contract: at least 30 days). */
export const TOMBSTONE_RETENTION_MS = 35 * 24 * 60 * 60 * 1000;

/**
 * A child (an order's line) as the API shows it: its fields, without keys, its place (`seq`)
 * or the version that wrote it.
 */
export const toPublicChild = (item: StoredItem): Record<string, unknown> => {
  const { [PK]: _pk, [SK]: _sk, seq: _seq, [WRITTEN_IN]: _written, ...fields } = item;
  return fields;
};

/** Attributes that are bookkeeping and never part of a record's public shape. */
const internalAttributes = new Set<string>([
  'lock',
  'lockFence',
  PK,
  SK,
  listingIndex.partitionKey,
  listingIndex.sortKey,
  SEARCH,
  TTL,
  'deletedAt',
  'deletedBy',
  CHILD_AMOUNTS,
  CHILD_VERSIONS,
]);

export const auditAttributes = ['version', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy'];

/**
 * The record as the API shows it, in a stable order: id, its fields, version and audit
 * fields, and who holds its lock while an unexpired one is held.
 */
export const toPublicRecord = (stored: StoredItem, now: Date): PublicRecord => {
  // An aggregate's header shows the sum of the amounts it keeps for its children.
  const item =
    stored[CHILD_AMOUNTS] === undefined ? stored : { ...stored, [TOTAL]: totalOf(stored[CHILD_AMOUNTS]) };
  const fields = Object.keys(item)
    .filter(
      (name) =>
        name !== 'id' &&
        !internalAttributes.has(name) &&
        !isAttemptAttribute(name) &&
        // Keyed-write markers of earlier releases, still on items written before.
        !name.startsWith('idem@') &&
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

/** Whether the item is a tombstone that still answers 410; past its retention it is as absent. */
export const isLiveTombstone = (item: StoredItem, now: Date): boolean =>
  item.deletedAt !== undefined && Number(item[TTL] ?? 0) > Math.floor(now.getTime() / 1000);

/** Whether the stored item already holds everything the change asks for. */
export const changeIsPresent = (item: StoredItem, change: Change): boolean =>
  Object.entries(change.set).every(([field, value]) => isDeepStrictEqual(item[field], value)) &&
  change.remove.every((field) => item[field] === undefined);

/** A new record's item at version 1, listed in the type's index, with its search copy. */
export const newRecordItem = (
  entity: EntitySpec,
  id: string,
  fields: Record<string, unknown>,
  context: Pick<WriteContext, 'actor' | 'now'>,
): StoredItem => {
  const now = context.now.toISOString();
  return {
    ...keyOf(entity, id),
    [listingIndex.partitionKey]: entity.type,
    [listingIndex.sortKey]: `${now}#${id}`,
    id,
    ...fields,
    ...searchAttributes(entity, id, fields),
    version: 1,
    createdAt: now,
    createdBy: context.actor,
    updatedAt: now,
    updatedBy: context.actor,
  };
};
