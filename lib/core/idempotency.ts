import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import { IdempotencyInProgressError, IdempotencyKeyReusedError, TooManyChangesError } from '../errors';
import { ExpressionBuilder } from './expression';
import { epochSeconds, PK, SK, TTL } from './keys';
import { conditionOf, type Rule } from './rules';
import { conditionFailure, type StoredItem, translateSdkError } from './sdk-errors';
import { asAction, readItem, sendWrite, type WriteAction } from './writes';

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

/**
 * What a key's stored record means for this request: its replay, a reuse (422), this very
 * request still running under its claim (409), or nothing (unknown or past its window).
 */
export const readKeyRecordItem = (
  item: StoredItem | undefined,
  idempotency: Idempotency,
  now: Date,
): Replay | IdempotencyKeyReusedError | IdempotencyInProgressError | undefined => {
  if (!item || Number(item.at) < now.getTime() - IDEMPOTENCY_WINDOW_MS) return undefined;
  if (item.h !== idempotency.requestHash) return new IdempotencyKeyReusedError();
  if (item.claim !== undefined) return new IdempotencyInProgressError();
  // Left open by a request that wrote parts and kept no answer: this request runs again.
  if (item.open) return undefined;
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
  return asAction('Put', {
    input: {
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
    rules,
  });
};

/** The key's record, read consistently: a replay, a reuse, or undefined. */
export const lookUpKey = async (
  idempotency: Idempotency,
  now: Date,
): Promise<Replay | IdempotencyKeyReusedError | IdempotencyInProgressError | undefined> => {
  return readKeyRecordItem(await readItem(keyRecordKey(idempotency.keyHash)), idempotency, now);
};

/**
 * How old a claim must be before a repeat takes over from the request that made it: that
 * request stopped before it kept its answer (a function runs for 10 s at most).
 */
export const CLAIM_STALE_MS = 15_000;

/**
 * Claims the key of a request made of parts (a batch, a field-group PATCH) before any part
 * is written: the key's record, with the claim's id and no answer yet, if the key is unused.
 * So only one request runs under a key: a repeat of one that finished gets its Replay,
 * another request 422, a repeat while it runs 409 IDEMPOTENCY_IN_PROGRESS. The SDK's retry of
 * the claim finds its own id. A claim older than CLAIM_STALE_MS, or one left open (see
 * releaseClaim), is taken over: the request carries on where the earlier one left off, each
 * part recognised by its own record.
 */
export const claimKey = async (
  idempotency: Idempotency,
  claim: string,
  now: Date,
): Promise<Replay | undefined> => {
  const x = new ExpressionBuilder();
  const unused = conditionOf(x, [keyUnused(idempotency, now)]);
  const input = {
    TableName: tableName(),
    Item: {
      ...keyRecordKey(idempotency.keyHash),
      h: idempotency.requestHash,
      claim,
      at: now.getTime(),
      [TTL]: epochSeconds(now) + RECORD_TTL_SECONDS,
    },
    ConditionExpression: `${unused} OR (${x.name('h')} = ${x.value(idempotency.requestHash)} AND attribute_exists(${x.name('open')}))`,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    ...x.attributes(),
  };
  try {
    await sendWrite(() => db().send(new PutCommand(input)));
    return undefined;
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) return translateSdkError(error);
    const item = failure.item;
    const running = item?.h === idempotency.requestHash && item.claim !== undefined;
    if (running && (item.claim === claim || Number(item.at) <= now.getTime() - CLAIM_STALE_MS))
      return undefined;
    const reading = readKeyRecordItem(item, idempotency, now);
    if (reading instanceof Replay) return reading;
    throw reading ?? new IdempotencyInProgressError();
  }
};

/**
 * Keeps the answer of a claimed request in its key's record, once: the first to keep it
 * (this request, or one that took over its claim) decides it for every repeat. Only a kept
 * answer is given, so a repeat always gets it exactly.
 */
export const keepClaimedAnswer = async <R>(
  idempotency: Idempotency,
  claim: string,
  answer: R,
  now: Date,
): Promise<{ response: R; replayed: boolean }> => {
  const x = new ExpressionBuilder();
  const input = {
    TableName: tableName(),
    Key: keyRecordKey(idempotency.keyHash),
    UpdateExpression: `SET ${x.name('response')} = ${x.value(encodeAnswer(answer))}, ${x.name('keptBy')} = ${x.value(claim)} REMOVE ${x.name('claim')}`,
    ConditionExpression: `${x.name('h')} = ${x.value(idempotency.requestHash)} AND attribute_exists(${x.name('claim')})`,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    ...x.attributes(),
  };
  try {
    await sendWrite(() => db().send(new UpdateCommand(input)));
    return { response: answer, replayed: false };
  } catch (error) {
    const kept = conditionFailure(error)?.item;
    const reading = kept ? readKeyRecordItem(kept, idempotency, now) : undefined;
    // Kept already: by this very attempt (its response lost, re-sent by the SDK), or by another.
    if (reading instanceof Replay)
      return { response: reading.response as R, replayed: kept?.keptBy !== claim };
    return translateSdkError(error);
  }
};

/**
 * Gives up a claim whose request ended without a kept answer, so that its repeat runs
 * again. If it wrote nothing, the key is free again (a 4xx uses up no key); if it wrote
 * parts, the record stays, open to this same request only: another request under the key
 * is 422, as it would meet the parts' own records. A claim that cannot be given up now is
 * taken over once stale.
 */
export const releaseClaim = async (
  idempotency: Idempotency,
  claim: string,
  wroteParts: boolean,
): Promise<void> => {
  const x = new ExpressionBuilder();
  const Key = keyRecordKey(idempotency.keyHash);
  const ConditionExpression = `${x.name('claim')} = ${x.value(claim)}`;
  const release = wroteParts
    ? new UpdateCommand({
        TableName: tableName(),
        Key,
        UpdateExpression: `SET ${x.name('open')} = ${x.value(true)} REMOVE ${x.name('claim')}`,
        ConditionExpression,
        ...x.attributes(),
      })
    : new DeleteCommand({ TableName: tableName(), Key, ConditionExpression, ...x.attributes() });
  await db()
    .send(release as UpdateCommand)
    .catch(() => undefined);
};

/**
 * Completes the answer a key's record keeps with what was known only after the change
 * (a balance read after the movement), once: the first completion is the answer for good,
 * and every other, finding it done, answers with that one. An answer is given only once it
 * is kept, so a repeat gets it exactly.
 */
export const completeKeyRecord = async <R>(idempotency: Idempotency, response: R, now: Date): Promise<R> => {
  const x = new ExpressionBuilder();
  // Built once: every attempt sends the very same request.
  const input = {
    TableName: tableName(),
    Key: keyRecordKey(idempotency.keyHash),
    UpdateExpression: `SET ${x.name('response')} = ${x.value(encodeAnswer(response))}, ${x.name('done')} = ${x.value(true)}`,
    // Only this request's own record, never another's, and only once.
    ConditionExpression: `${x.name('h')} = ${x.value(idempotency.requestHash)} AND attribute_not_exists(${x.name('done')})`,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    ...x.attributes(),
  };
  try {
    await sendWrite(() => db().send(new UpdateCommand(input)));
    return response;
  } catch (error) {
    // Done already (by a repeat that found this one slow, or by this very attempt, its
    // response lost and re-sent by the SDK): that answer is the one.
    const kept = conditionFailure(error)?.item;
    const reading = readKeyRecordItem(kept, idempotency, now);
    if (reading instanceof Replay) return reading.response as R;
    return translateSdkError(error);
  }
};
