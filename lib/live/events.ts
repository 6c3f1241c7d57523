import { isDeepStrictEqual } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { TOTAL } from '../core/build/children';
import type { StoredItem } from '../core/build/items';
import { PK, RECORD_SK, SK } from '../core/build/keys';
import type { StoredLock } from '../core/build/locks';
import { auditAttributes, toPublicChild, toPublicRecord } from '../core/build/records';
import { articleEntity, debtorEntity, orderEntity } from '../domain/catalog';
import { type LineChange, type LiveEvent, type Resource, recordTypes, resources } from './protocol';

/**
 * Stream records → events: the one place that reads the table's change stream. Each change to
 * a record's own item (sk `RECORD`) is one event; an order's line changes join the event of
 * the header change they came with; everything else (key records `IDEM#…`, ledger entries,
 * bookkeeping alone) is no event. Pure: the local stream reader and the Lambda consumer both
 * hand their records to `eventsOf`.
 */

/** One stream record, from either source, with its images unmarshalled. */
export interface ChangeRecord {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The stream's sequence number of this record. */
  seq: string;
  keys: StoredItem;
  oldImage?: StoredItem;
  newImage?: StoredItem;
}

type Images = Record<string, AttributeValue> | undefined;
const image = (attributes: Images): StoredItem | undefined =>
  attributes ? (unmarshall(attributes) as StoredItem) : undefined;

const changeRecord = (
  eventName: string | undefined,
  stream: { SequenceNumber?: string; Keys?: Images; OldImage?: Images; NewImage?: Images } | undefined,
): ChangeRecord | undefined => {
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') return undefined;
  const keys = image(stream?.Keys);
  if (!stream?.SequenceNumber || !keys) return undefined;
  const oldImage = image(stream.OldImage);
  const newImage = image(stream.NewImage);
  return {
    eventName,
    seq: stream.SequenceNumber,
    keys,
    ...(oldImage ? { oldImage } : {}),
    ...(newImage ? { newImage } : {}),
  };
};

/** A record as Lambda hands it to a stream consumer. */
export const fromLambdaRecord = (record: DynamoDBRecord): ChangeRecord | undefined =>
  changeRecord(record.eventName, record.dynamodb as Parameters<typeof changeRecord>[1]);

/**
 * DynamoDB Local's stream writes an empty map as `{}` where DynamoDB writes `{"M": {}}`
 * (checked against DynamoDB Local here), and `{}` is no attribute value: an order without
 * lines keeps an empty map of line amounts. Read it as the empty map it is.
 */
const emptyMapsRestored = (value: AttributeValue): AttributeValue => {
  if (Object.keys(value).length === 0) return { M: {} };
  if (value.M)
    return { M: Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, emptyMapsRestored(v)])) };
  if (value.L) return { L: value.L.map(emptyMapsRestored) };
  return value;
};

const imagesRestored = (images: Images): Images =>
  images &&
  Object.fromEntries(Object.entries(images).map(([name, value]) => [name, emptyMapsRestored(value)]));

/** A record as GetRecords answers it (the local stream reader). */
export const fromStreamsRecord = (record: {
  eventName?: string | undefined;
  dynamodb?: object | undefined;
}): ChangeRecord | undefined => {
  const stream = record.dynamodb as Parameters<typeof changeRecord>[1];
  return changeRecord(
    record.eventName,
    stream && {
      ...stream,
      OldImage: imagesRestored(stream.OldImage),
      NewImage: imagesRestored(stream.NewImage),
    },
  );
};

const resourceOfType = new Map(resources.map((resource) => [recordTypes[resource], resource]));

/** Counters that move only by their atomic routes: a change of one alone is a movement. */
const counters: Partial<Record<Resource, readonly string[]>> = {
  accounts: ['balance'],
  debtors: debtorEntity.readOnly,
  articles: articleEntity.readOnly,
};

const LINE_PREFIX = orderEntity.childPrefix;

/** Which record an item belongs to, and whether it is the record's own item or an order line. */
const placeOf = (
  keys: StoredItem,
): { resource: Resource; id: string; part: 'record' | 'line'; lineId?: string } | undefined => {
  const pk = String(keys[PK] ?? '');
  const sk = String(keys[SK] ?? '');
  const hash = pk.indexOf('#');
  const resource = resourceOfType.get(pk.slice(0, hash));
  const id = pk.slice(hash + 1);
  if (hash < 0 || !resource || id.length === 0) return undefined;
  if (sk === RECORD_SK) return { resource, id, part: 'record' };
  if (resource === 'orders' && sk.startsWith(LINE_PREFIX))
    return { resource, id, part: 'line', lineId: sk.slice(LINE_PREFIX.length) };
  return undefined;
};

/** The record's data fields as the API shows them, without its id, audit fields and lock. */
const dataOf = (item: StoredItem): Record<string, unknown> => {
  const { id: _id, lock: _lock, ...fields } = toPublicRecord(item, new Date(0));
  for (const name of auditAttributes) delete fields[name];
  return fields;
};

/** The names whose values differ between two sets of fields, sorted. */
const changedFields = (before: Record<string, unknown>, after: Record<string, unknown>): string[] =>
  [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((name) => !isDeepStrictEqual(before[name], after[name]))
    .sort();

/** The parts a change of these fields touches: field groups, an order's header and lines. */
const groupsOf = (resource: Resource, fields: readonly string[], linesChanged: boolean): string[] => {
  if (resource === 'orders') {
    const header = fields.some((field) => orderEntity.fields.includes(field));
    return [...(header ? ['header'] : []), ...(linesChanged ? ['lines'] : [])];
  }
  const entity = resource === 'debtors' ? debtorEntity : resource === 'articles' ? articleEntity : undefined;
  if (!entity) return [];
  return Object.entries(entity.groups)
    .filter(([, group]) => group.fields.some((field) => fields.includes(field)))
    .map(([name]) => name);
};

/** A lock's change between two images, if its holder, token or expiry changed. */
const lockEvent = (before: StoredItem, after: StoredItem, at: string): Partial<LiveEvent> | undefined => {
  const old = before.lock as StoredLock | undefined;
  const now = after.lock as StoredLock | undefined;
  if (isDeepStrictEqual(old, now)) return undefined;
  if (!now) return old ? { at, kind: 'lock', lock: { action: 'released', owner: old.owner } } : undefined;
  const expiresAt = now.expiresAt;
  if (old?.token === now.token)
    return { at, by: now.owner, kind: 'lock', lock: { action: 'renewed', owner: now.owner, expiresAt } };
  return {
    at: now.acquiredAt,
    by: now.owner,
    kind: 'lock',
    lock: {
      action: 'taken',
      owner: now.owner,
      expiresAt,
      ...(old && old.owner !== now.owner ? { previousOwner: old.owner } : {}),
    },
  };
};

/**
 * The event of a change to a record's own item, or none (a tombstone's housekeeping, a
 * change of bookkeeping alone). `receivedAt` stands in for the time of what the item does not
 * date (a lock renewed or released; a removal): the stream's own approximate time is coarse.
 */
const recordEvent = (
  record: ChangeRecord,
  resource: Resource,
  id: string,
  receivedAt: string,
): LiveEvent | undefined => {
  const base = { seq: record.seq, resource, id };
  const { oldImage: before, newImage: after } = record;
  const versionOf = (item: StoredItem) => Number(item.version);
  if (record.eventName === 'REMOVE') {
    // A tombstone's end (TTL) was announced as a delete when it was made.
    if (!before || before.deletedAt !== undefined) return undefined;
    return { ...base, version: versionOf(before), at: receivedAt, kind: 'deleted' };
  }
  if (!after) return undefined;
  if (after.deletedAt !== undefined) {
    if (before?.deletedAt !== undefined) return undefined;
    return {
      ...base,
      version: versionOf(after),
      at: String(after.deletedAt),
      by: String(after.deletedBy),
      kind: 'deleted',
    };
  }
  if (!before || before.deletedAt !== undefined)
    return {
      ...base,
      version: versionOf(after),
      at: String(after.createdAt ?? receivedAt),
      ...(after.createdBy === undefined ? {} : { by: String(after.createdBy) }),
      kind: 'created',
    };

  const fields = changedFields(dataOf(before), dataOf(after));
  const versionMoved = versionOf(before) !== versionOf(after);
  if (fields.length === 0 && !versionMoved) {
    const lock = lockEvent(before, after, receivedAt);
    return lock ? ({ ...base, version: versionOf(after), ...lock } as LiveEvent) : undefined;
  }
  // Written through the API: its audit fields say who and when. Otherwise (a console edit
  // that left them) the item does not say who.
  const audited = versionMoved || before.updatedAt !== after.updatedAt;
  const who = {
    at: audited ? String(after.updatedAt) : receivedAt,
    ...(audited && after.updatedBy !== undefined ? { by: String(after.updatedBy) } : {}),
  };
  const counter = fields.length === 1 ? counters[resource]?.find((name) => name === fields[0]) : undefined;
  if (counter) {
    const value = Number(after[counter] ?? 0);
    return {
      ...base,
      version: versionOf(after),
      ...who,
      kind: 'movement',
      movement: { field: counter, delta: value - Number(before[counter] ?? 0), value },
    };
  }
  // An order's line count and total are its lines' (`lines`), not header fields.
  const ofLines = resource === 'orders' ? [orderEntity.countField, TOTAL] : [];
  const headerFields = fields.filter((field) => !ofLines.includes(field));
  // An order's version moves with its header fields, or else with its lines: a version moved
  // with no header field changed is a line change (its line records may come in another batch).
  const linesChanged =
    resource === 'orders' &&
    (fields.some((field) => ofLines.includes(field)) || (versionMoved && headerFields.length === 0));
  return {
    ...base,
    version: versionOf(after),
    ...who,
    kind: 'changed',
    fields: resource === 'orders' ? headerFields : fields,
    groups: groupsOf(resource, fields, linesChanged),
  };
};

/** What a stream record of an order line says happened to the line. */
const lineChange = (record: ChangeRecord, lineId: string): LineChange => {
  if (record.eventName === 'INSERT' || !record.oldImage) return { lineId, change: 'added' };
  if (record.eventName === 'REMOVE' || !record.newImage) return { lineId, change: 'removed' };
  const fields = changedFields(toPublicChild(record.oldImage), toPublicChild(record.newImage));
  return { lineId, change: 'changed', fields };
};

/** When the write that added a line was made: its `seq` starts with the write's time (aggregate.childSeq). */
const addedAt = (record: ChangeRecord): string | undefined =>
  record.eventName === 'INSERT' ? String(record.newImage?.seq ?? '').split('#')[0] : undefined;

/**
 * The events of a batch of stream records, in stream order, one per change of a record.
 *
 * DynamoDB does not keep a transaction's records together in its stream (they may come at
 * different times, in other batches, between other records), and an order's line items carry
 * no version. So a line change joins a header change of its order in the same batch where
 * that is certain: a line added, the change made at the time its `seq` names (one added when
 * the order was made is part of `created`); a line changed or removed, the only change of its
 * order in the batch. Otherwise it is left out: the header's event still says `lines`, and the
 * client reads the order. A line change never makes an event alone.
 */
export const eventsOf = (records: readonly ChangeRecord[], receivedAt: string): LiveEvent[] => {
  const events: LiveEvent[] = [];
  const lines: { key: string; record: ChangeRecord; lineId: string }[] = [];
  for (const record of records) {
    const place = placeOf(record.keys);
    if (!place) continue;
    if (place.part === 'line') {
      lines.push({ key: `${place.resource}/${place.id}`, record, lineId: place.lineId ?? '' });
      continue;
    }
    const event = recordEvent(record, place.resource, place.id, receivedAt);
    if (event) events.push(event);
  }
  for (const { key, record, lineId } of lines) {
    const ofOrder = events.filter((event) => `${event.resource}/${event.id}` === key);
    const added = addedAt(record);
    const changes = ofOrder.filter((event) => event.kind === 'changed');
    const event =
      added !== undefined
        ? ofOrder.find((candidate) => candidate.kind !== 'lock' && candidate.at === added)
        : changes.length === 1
          ? changes[0]
          : undefined;
    if (event?.kind !== 'changed') continue;
    event.lines = [...(event.lines ?? []), lineChange(record, lineId)];
    if (!event.groups?.includes('lines')) event.groups = [...(event.groups ?? []), 'lines'];
  }
  return events;
};
