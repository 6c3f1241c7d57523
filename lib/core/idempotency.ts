import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BatchGetCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import { IdempotencyKeyReusedError, ThrottledError, TooManyChangesError } from '../errors';
import { ExpressionBuilder } from './expression';
import { epochSeconds, PK, SK, TTL } from './keys';
import { conditionOf, type Rule } from './rules';
import { type StoredItem, translateSdkError } from './sdk-errors';
import { sendWrite, type WriteAction } from './writes';

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** How long DynamoDB keeps a key's record; whether it still counts is decided by `at`. */
const RECORD_TTL_SECONDS = 2 * 24 * 3600;

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

/**
 * This request's key was found applied already: the first answer, to give again. Never
 * leaves the core.
 */
export class Replay extends Error {
  constructor(readonly response: unknown) {
    super('This request was applied already under its Idempotency-Key.');
    this.name = 'Replay';
  }
}

/** What a key's stored record means for this request: its replay, a reuse (422), or nothing (unknown or past its window). */
export const readKeyRecordItem = (
  item: StoredItem | undefined,
  idempotency: Idempotency,
  now: Date,
): Replay | IdempotencyKeyReusedError | undefined => {
  if (!item || Number(item.at) < now.getTime() - IDEMPOTENCY_WINDOW_MS) return undefined;
  if (item.h !== idempotency.requestHash) return new IdempotencyKeyReusedError();
  return new Replay(decodeAnswer(item.response));
};

/**
 * Most bytes an answer may take in its key's record (gzipped JSON), well inside DynamoDB's
 * 400 KB item, with room for the record's other attributes.
 */
export const MAX_ANSWER_BYTES = 350_000;

/**
 * An answer as its key's record keeps it: gzipped JSON text, so a repeat answers the same
 * bytes, and large answers (an order of 500 lines) still fit in one item. A keyed request
 * whose answer cannot fit is refused before it writes anything.
 */
export const encodeAnswer = (response: unknown): Uint8Array => {
  const encoded = gzipSync(JSON.stringify(response));
  if (encoded.byteLength > MAX_ANSWER_BYTES) {
    throw new TooManyChangesError(
      'The answer to this request is too large to be kept under an Idempotency-Key: send it without one, or in parts.',
    );
  }
  return encoded;
};

// Node 22's JSON.parse hands a reviver the source text; TypeScript's lib does not declare it.
type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;
const rawJson = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/** Integers past 2^53 (an order's exact total) come back as their exact digits. */
const exactIntegers: Reviver = (_key, value, context) =>
  typeof value === 'number' &&
  !Number.isSafeInteger(value) &&
  context?.source &&
  rawJson &&
  /^-?\d+$/.test(context.source)
    ? rawJson(context.source)
    : value;

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

/** The key was not used within its window; broken, it is this request's replay or a reuse. */
const keyUnused = (idempotency: Idempotency, now: Date): Rule => ({
  clause: (x) =>
    `attribute_not_exists(${x.name(PK)}) OR ${x.name('at')} < ${x.value(now.getTime() - IDEMPOTENCY_WINDOW_MS)}`,
  broken: (item) => readKeyRecordItem(item, idempotency, now),
});

/**
 * The key's record as one action of the transaction that makes the change, so the change
 * and the proof that it happened commit together or not at all. It keeps the answer.
 */
export const keyRecordAction = (idempotency: Idempotency, response: unknown, now: Date): WriteAction => {
  const x = new ExpressionBuilder();
  const rules = [keyUnused(idempotency, now)];
  return {
    request: {
      Put: {
        TableName: tableName(),
        Item: {
          ...keyRecordKey(idempotency.keyHash),
          h: idempotency.requestHash,
          response: encodeAnswer(response),
          at: now.getTime(),
          [TTL]: epochSeconds(now) + RECORD_TTL_SECONDS,
        },
        ConditionExpression: conditionOf(x, rules),
        ...x.attributes(),
      },
    },
    rules,
  };
};

/** The key's record, read consistently: a replay, a reuse, or undefined. */
export const lookUpKey = async (
  idempotency: Idempotency,
  now: Date,
): Promise<Replay | IdempotencyKeyReusedError | undefined> => {
  const { Item } = await db()
    .send(
      new GetCommand({
        TableName: tableName(),
        Key: keyRecordKey(idempotency.keyHash),
        ConsistentRead: true,
      }),
    )
    .catch(translateSdkError);
  return readKeyRecordItem(Item, idempotency, now);
};

/**
 * The records of a multi-part request's key and of each of its parts, read consistently in
 * one BatchGetItem: the whole request's replay, or a reuse of the key (for the request or
 * any part, before anything is written), or undefined.
 */
export const lookUpKeys = async (
  idempotency: Idempotency,
  parts: readonly Idempotency[],
  now: Date,
): Promise<Replay | IdempotencyKeyReusedError | undefined> => {
  const all = [idempotency, ...parts];
  const items = new Map<string, StoredItem>();
  let pending: Record<string, unknown>[] = all.map((key) => keyRecordKey(key.keyHash));
  for (let round = 0; pending.length > 0; round += 1) {
    if (round >= 8) throw new ThrottledError(1);
    const { Responses, UnprocessedKeys } = await db()
      .send(
        new BatchGetCommand({
          RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: true } },
        }),
      )
      .catch(translateSdkError);
    for (const item of Responses?.[tableName()] ?? []) items.set(String(item[PK]), item);
    pending = (UnprocessedKeys?.[tableName()]?.Keys ?? []) as Record<string, unknown>[];
  }
  const readings = all.map((key) => readKeyRecordItem(items.get(keyRecordKey(key.keyHash)[PK]), key, now));
  if (readings[0]) return readings[0];
  return readings.find((reading) => reading instanceof IdempotencyKeyReusedError);
};

/**
 * Completes the answer a key's record keeps with what was known only after the change
 * (a balance read after the movement), so a repeat gets the first answer whole.
 */
export const completeKeyRecord = async (
  idempotency: Idempotency,
  response: Record<string, unknown>,
): Promise<void> => {
  const x = new ExpressionBuilder();
  // Built once: every attempt sends the very same request.
  const input = {
    TableName: tableName(),
    Key: keyRecordKey(idempotency.keyHash),
    UpdateExpression: `SET ${x.name('response')} = ${x.value(encodeAnswer(response))}`,
    // Only this request's own record, never another's.
    ConditionExpression: `${x.name('h')} = ${x.value(idempotency.requestHash)}`,
    ...x.attributes(),
  };
  await sendWrite(() => db().send(new UpdateCommand(input))).catch(translateSdkError);
};
