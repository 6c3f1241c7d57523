import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DeleteCommandInput, PutCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../../db/table-name';
import { rawJson } from './amounts';
import { ExpressionBuilder, updateExpression } from './expression';
import type { StoredItem } from './items';
import { epochSeconds, PK, SK, TTL } from './keys';

/**
 * The record an Idempotency-Key leaves: its type, its states, and the pure builders of its
 * items and conditions. What a stored record means for a request is decided in
 * idempotency.ts, which also sends these.
 *
 * States (attributes of the item `IDEM#<keyHash>` / `IDEM`):
 * - **kept**: `h` (the request's hash) and the first answer: inline (`response`, gzipped
 *   JSON), or in parts (`parts: {owner, count}`) in items beside it when it is too large for
 *   one item. A repeat within 24 h (`at`) gets it again, exactly.
 * - **claimed**: `claim` (the claimant's id): a request made of parts, or one too large for
 *   one transaction with its key's record, is running. A large one keeps its answer-to-be
 *   (`pending`) and names the item its change stamps (`target`), so that a repeat that takes
 *   over a stale claim can tell whether the change committed.
 * - **open**: a request made of parts stopped after writing some and keeping no answer: only
 *   the same request may run again.
 */

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** How long DynamoDB keeps a key's record; whether it still counts is decided by `at`. */
const RECORD_TTL_SECONDS = 2 * 24 * 3600;

/**
 * How old a claim must be before a repeat takes over from the request that made it: that
 * request's time is up (a request runs for 10 s at most, and no attempt of it is still on its
 * way after 5 s more).
 */
export const CLAIM_STALE_MS = 15_000;

/**
 * Most bytes of an answer kept in the key's record itself (gzipped JSON), well inside
 * DynamoDB's 400 KB item with room for the record's other attributes; a larger answer is kept
 * in parts of this size beside it, so every answer can be kept.
 */
export const ANSWER_PART_BYTES = 350_000;

/**
 * What a write carries when its request had an Idempotency-Key: the key (hashed with the
 * caller's sub, so keys are per caller across the whole API) and a hash of what the request
 * asked for, to tell a repeat of the same request from another request under the same key.
 */
export interface Idempotency {
  keyHash: string;
  requestHash: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );

export const idempotencyKeyHash = (sub: string, key: string): string => sha256(`${sub}\n${key}`);

export const requestHashOf = (request: unknown): string => sha256(canonicalJson(request));

/**
 * The identity of one part of a multi-part keyed request (one item of a batch, one field
 * group of a PATCH): its own key record makes that part happen once, whatever happens to
 * the others.
 */
export const forPart = (idempotency: Idempotency, part: string): Idempotency => ({
  keyHash: sha256(`${idempotency.keyHash}\n${part}`),
  requestHash: sha256(`${idempotency.requestHash}\n${part}`),
});

export const keyRecordKey = (keyHash: string) => ({ [PK]: `IDEM#${keyHash}`, [SK]: 'IDEM' });

const partKey = (keyHash: string, owner: string, index: number) => ({
  [PK]: `IDEM#${keyHash}`,
  [SK]: `ANSWER#${owner}#${String(index).padStart(4, '0')}`,
});

/** The sort-key prefix of an answer's parts, for the Query that reads them. */
export const partPrefix = (owner: string): string => `ANSWER#${owner}#`;

const expiry = (now: Date) => ({ at: now.getTime(), [TTL]: epochSeconds(now) + RECORD_TTL_SECONDS });

/** Whether a stored key record still counts (within its window). */
export const isWithinWindow = (item: StoredItem | undefined, now: Date): item is StoredItem =>
  item !== undefined && Number(item.at) >= now.getTime() - IDEMPOTENCY_WINDOW_MS;

/** Whether a claim is old enough to be taken over. */
export const isStaleClaim = (item: StoredItem, now: Date): boolean =>
  Number(item.at) <= now.getTime() - CLAIM_STALE_MS;

/** The clause: the key was not used within its window. */
export const keyUnusedClause = (x: ExpressionBuilder, now: Date): string =>
  `attribute_not_exists(${x.name(PK)}) OR ${x.name('at')} < ${x.value(now.getTime() - IDEMPOTENCY_WINDOW_MS)}`;

// Node 22's JSON.parse hands a reviver the source text; TypeScript's lib does not declare it.
type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

/** Integers past 2^53 (an order's exact total) come back as their exact digits. */
const exactIntegers: Reviver = (_key, value, context) =>
  typeof value === 'number' &&
  !Number.isSafeInteger(value) &&
  context?.source &&
  rawJson &&
  /^-?\d+$/.test(context.source)
    ? rawJson(context.source)
    : value;

/** An answer as kept: gzipped JSON text, so a repeat answers the same bytes. */
export const encodeAnswer = (response: unknown): Uint8Array => gzipSync(JSON.stringify(response));

/** An answer as kept: gzipped JSON (this release), JSON text or a map (earlier ones). */
export const decodeAnswer = (stored: unknown): unknown => {
  const text =
    stored instanceof Uint8Array
      ? gunzipSync(stored).toString('utf8')
      : typeof stored === 'string'
        ? stored
        : undefined;
  return text === undefined ? stored : JSON.parse(text, exactIntegers as Parameters<typeof JSON.parse>[1]);
};

/** An encoded answer as the key's record keeps it: inline, or in parts owned by `owner`. */
export interface KeptAnswer {
  /** Attributes of the key's record that hold or name the answer. */
  attributes: StoredItem;
  /** The PutItem inputs of its parts, written before the record names them. */
  parts: PutCommandInput[];
}

/** Keeps `encoded` inline when it fits, else in parts beside the record, owned by `owner`. */
export const keptAnswer = (
  idempotency: Idempotency,
  encoded: Uint8Array,
  owner: string,
  now: Date,
): KeptAnswer => {
  if (encoded.byteLength <= ANSWER_PART_BYTES) return { attributes: { response: encoded }, parts: [] };
  const count = Math.ceil(encoded.byteLength / ANSWER_PART_BYTES);
  const parts = Array.from({ length: count }, (_, index) => {
    const x = new ExpressionBuilder();
    return {
      TableName: tableName(),
      Item: {
        ...partKey(idempotency.keyHash, owner, index),
        part: encoded.subarray(index * ANSWER_PART_BYTES, (index + 1) * ANSWER_PART_BYTES),
        ...expiry(now),
      },
      // A part is written once, by its owner.
      ConditionExpression: `attribute_not_exists(${x.name(PK)})`,
      ...x.attributes(),
    };
  });
  return { attributes: { parts: { owner, count } }, parts };
};

/** The Put of a kept record (the change's transaction holds it): the key unused within its window. */
export const keptRecordPut = (idempotency: Idempotency, kept: KeptAnswer, now: Date): PutCommandInput => {
  const x = new ExpressionBuilder();
  return {
    TableName: tableName(),
    Item: {
      ...keyRecordKey(idempotency.keyHash),
      h: idempotency.requestHash,
      ...kept.attributes,
      ...expiry(now),
    },
    ConditionExpression: keyUnusedClause(x, now),
    ...x.attributes(),
  };
};

/**
 * The Put of a claim: the key unused, or this same request's record left open, or a stale
 * claim of this same request (`takeOver`: its claim id), which this claim replaces.
 */
export const claimPut = (
  idempotency: Idempotency,
  claim: string,
  now: Date,
  options: { takeOver?: string; pending?: { kept: KeptAnswer; target: StoredItem } } = {},
): PutCommandInput => {
  const x = new ExpressionBuilder();
  const same = `${x.name('h')} = ${x.value(idempotency.requestHash)}`;
  const conditions = [
    keyUnusedClause(x, now),
    `(${same} AND attribute_exists(${x.name('open')}))`,
    ...(options.takeOver ? [`(${same} AND ${x.name('claim')} = ${x.value(options.takeOver)})`] : []),
  ];
  return {
    TableName: tableName(),
    Item: {
      ...keyRecordKey(idempotency.keyHash),
      h: idempotency.requestHash,
      claim,
      ...(options.pending
        ? { pending: options.pending.kept.attributes, target: options.pending.target }
        : {}),
      ...expiry(now),
    },
    ConditionExpression: conditions.join(' OR '),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...x.attributes(),
  };
};

/**
 * The Update that keeps a claimed request's answer (`answer`: the one it computed, or a
 * large change's pending one), once: only while `claim` holds the key.
 */
export const keepUpdate = (
  idempotency: Idempotency,
  claim: string,
  answer: Pick<KeptAnswer, 'attributes'>,
): UpdateCommandInput => {
  const x = new ExpressionBuilder();
  return {
    TableName: tableName(),
    Key: keyRecordKey(idempotency.keyHash),
    UpdateExpression: updateExpression(
      [
        ...Object.entries(answer.attributes).map(([name, value]) => `${x.name(name)} = ${x.value(value)}`),
        `${x.name('keptBy')} = ${x.value(claim)}`,
      ],
      ['claim', 'pending', 'target', 'open'].map((name) => x.name(name)),
    ),
    ConditionExpression: `${x.name('h')} = ${x.value(idempotency.requestHash)} AND ${x.name('claim')} = ${x.value(claim)}`,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...x.attributes(),
  };
};

/**
 * The Update that gives up a claim: the record left open to the same request when it wrote
 * parts, else removed (its DeleteItem is the `remove` form), so a 4xx uses up no key.
 */
export const releaseInput = (
  idempotency: Idempotency,
  claim: string,
  wroteParts: boolean,
):
  | { update: UpdateCommandInput; remove?: undefined }
  | { update?: undefined; remove: DeleteCommandInput } => {
  const x = new ExpressionBuilder();
  const ConditionExpression = `${x.name('claim')} = ${x.value(claim)}`;
  const Key = keyRecordKey(idempotency.keyHash);
  if (!wroteParts) return { remove: { TableName: tableName(), Key, ConditionExpression, ...x.attributes() } };
  return {
    update: {
      TableName: tableName(),
      Key,
      UpdateExpression: `SET ${x.name('open')} = ${x.value(true)} REMOVE ${x.name('claim')}, ${x.name('pending')}, ${x.name('target')}`,
      ConditionExpression,
      ...x.attributes(),
    } satisfies UpdateCommandInput,
  };
};

/**
 * The Update that completes a kept answer with what was known only after the change (a
 * balance read after the movement), once: the first completion is the answer for good.
 */
export const completeUpdate = (idempotency: Idempotency, answer: KeptAnswer): UpdateCommandInput => {
  const x = new ExpressionBuilder();
  return {
    TableName: tableName(),
    Key: keyRecordKey(idempotency.keyHash),
    UpdateExpression: updateExpression([
      ...Object.entries(answer.attributes).map(([name, value]) => `${x.name(name)} = ${x.value(value)}`),
      `${x.name('done')} = ${x.value(true)}`,
    ]),
    // Only this request's own record, never another's, and only once.
    ConditionExpression: `${x.name('h')} = ${x.value(idempotency.requestHash)} AND attribute_not_exists(${x.name('done')})`,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...x.attributes(),
  };
};

/** The mark a large keyed change leaves on its first item, so a repeat can tell it committed. */
export const CLAIMS_ATTRIBUTE = '@k';
