import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../db/client';
import type { StoredItem } from '../db/sdk-errors';
import {
  AppError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  OutcomeUnknownError,
} from '../errors';
import { newAttemptId } from './attempts';
import { ExpressionBuilder } from './expression';
import {
  CLAIMS_ATTRIBUTE,
  claimPut,
  completeUpdate,
  decodeAnswer,
  encodeAnswer,
  type Idempotency,
  isStaleClaim,
  isWithinWindow,
  type KeptAnswer,
  keepUpdate,
  keptAnswer,
  keptRecordPut,
  keyRecordKey,
  keyUnusedClause,
  partPrefix,
  releaseInput,
} from './key-record';
import { PK, SK } from './keys';
import type { Rule } from './rules';
import { sendWithRetries } from './send';
import {
  asAction,
  conditionalWrite,
  MAX_TRANSACTION_ITEMS,
  queryAll,
  readItem,
  TransactionRefused,
  transactAll,
  type WriteAction,
} from './writes';

export type { Idempotency } from './key-record';

/**
 * What an Idempotency-Key's record means for a request, and the flows that write it: a
 * change and its key's record in one transaction; a request too large for that, or made of
 * parts, under a claim. The record itself (its states and builders) is key-record.ts.
 */

/**
 * This request's key was found applied already: the kept record, whose first answer is
 * given again, exactly. Never leaves the core.
 */
export class Replay extends Error {
  constructor(readonly kept: StoredItem) {
    super('This request was applied already under its Idempotency-Key.');
    this.name = 'Replay';
  }

  /** The first answer: kept in the record, or in parts beside it. */
  async answer(): Promise<unknown> {
    const parts = this.kept.parts as { owner: string; count: number } | undefined;
    if (!parts) return decodeAnswer(this.kept.response);
    const x = new ExpressionBuilder();
    const items = await queryAll({
      TableName: tableName(),
      KeyConditionExpression: `${x.name(PK)} = ${x.value(this.kept[PK])} AND begins_with(${x.name(SK)}, ${x.value(partPrefix(parts.owner))})`,
      ConsistentRead: true,
      ...x.attributes(),
    });
    if (items.length !== parts.count) throw new Error('A kept answer is missing some of its parts.');
    return decodeAnswer(Buffer.concat(items.map((item) => item.part as Uint8Array)));
  }
}

/**
 * A claim of this very request whose claimant's time is up: it stopped, committed or not.
 * Never leaves the core.
 */
export class StaleClaim extends Error {
  constructor(readonly record: StoredItem) {
    super('A claim of this request was left by a request that stopped.');
    this.name = 'StaleClaim';
  }
}

/**
 * What a key's stored record means for this request (pure): its replay, a reuse (422), this
 * very request still running under its claim (409), a claim left by it that stopped, or
 * nothing (unknown, past its window, or left open for this request to run again).
 */
export const readKeyRecordItem = (
  item: StoredItem | undefined,
  idempotency: Idempotency,
  now: Date,
): Replay | StaleClaim | IdempotencyKeyReusedError | IdempotencyInProgressError | undefined => {
  if (!isWithinWindow(item, now)) return undefined;
  if (item.h !== idempotency.requestHash) return new IdempotencyKeyReusedError();
  if (item.claim !== undefined) {
    return isStaleClaim(item, now) ? new StaleClaim(item) : new IdempotencyInProgressError();
  }
  if (item.open) return undefined;
  return new Replay(item);
};

/** The key was not used within its window; broken, it is this request's replay or a reuse. */
const keyUnused = (idempotency: Idempotency, now: Date): Rule => ({
  clause: (x) => keyUnusedClause(x, now),
  broken: (item) => readKeyRecordItem(item, idempotency, now),
});

/**
 * A claim whose claimant's time is up: if it was a change too large for one transaction
 * and its change committed (its target bears the claim), its pending answer is kept for
 * good and is this request's replay; otherwise nothing of it stands and it may be taken over.
 */
const settle = async (idempotency: Idempotency, record: StoredItem, now: Date): Promise<Replay | 'free'> => {
  if (!record.pending || !record.target) return 'free';
  const target = await readItem(record.target as StoredItem);
  const stamps = target?.[CLAIMS_ATTRIBUTE] as Set<string> | undefined;
  if (!stamps?.has(String(record.claim))) return 'free';
  const claim = String(record.claim);
  const pending = record.pending as StoredItem;
  const refused = await conditionalWrite(
    new UpdateCommand(keepUpdate(idempotency, claim, { attributes: pending })),
  );
  const settled = refused ? readKeyRecordItem(refused.item, idempotency, now) : undefined;
  if (refused && !(settled instanceof Replay)) throw new IdempotencyInProgressError();
  return settled instanceof Replay ? settled : new Replay({ ...record, ...pending, keptBy: claim });
};

/** The key's record, read consistently: a replay, a reuse, this request in progress, or undefined. */
export const lookUpKey = async (
  idempotency: Idempotency,
  now: Date,
): Promise<Replay | IdempotencyKeyReusedError | IdempotencyInProgressError | undefined> => {
  const item = await readItem(keyRecordKey(idempotency.keyHash));
  const reading = readKeyRecordItem(item, idempotency, now);
  if (!(reading instanceof StaleClaim)) return reading;
  const settled = await settle(idempotency, reading.record, now);
  return settled === 'free' ? undefined : settled;
};

/** Writes an answer's parts (before anything names them). */
const writeParts = async (kept: KeptAnswer): Promise<void> => {
  await Promise.all(kept.parts.map((part) => conditionalWrite(new PutCommand(part))));
};

/**
 * Claims the key before anything is written (a request made of parts, or a change too large
 * for one transaction with its key's record, which names its answer-to-be and the item its
 * change stamps: `pending`). So only one request runs under a key: a repeat of one that
 * finished gets its Replay, another request 422, a repeat while it runs 409
 * IDEMPOTENCY_IN_PROGRESS. An attempt of this claim found applied already is this claim. A
 * claim whose claimant's time is up is settled (see settle) or taken over; one left open is
 * this request's to run again.
 */
export const claimKey = async (
  idempotency: Idempotency,
  now: Date,
  options: { claim?: string; pending?: { kept: KeptAnswer; target: StoredItem } } = {},
): Promise<{ claim: string; stored?: Replay }> => {
  const claim = options.claim ?? newAttemptId();
  let takeOver: string | undefined;
  for (let round = 0; round < 3; round += 1) {
    const refused = await conditionalWrite(
      new PutCommand(
        claimPut(idempotency, claim, now, {
          ...(takeOver ? { takeOver } : {}),
          ...(options.pending ? { pending: options.pending } : {}),
        }),
      ),
    );
    if (!refused || refused.item?.claim === claim) return { claim };
    const reading = readKeyRecordItem(refused.item, idempotency, now);
    if (reading instanceof Replay) return { claim, stored: reading };
    if (!(reading instanceof StaleClaim)) throw reading ?? new IdempotencyInProgressError();
    const settled = await settle(idempotency, reading.record, now);
    if (settled instanceof Replay) return { claim, stored: settled };
    takeOver = String(reading.record.claim);
  }
  throw new IdempotencyInProgressError();
};

/**
 * Keeps a claimed request's answer, once: the first to keep it (this request, or one that
 * took over its claim) decides it for every repeat. Only a kept answer is given, so a repeat
 * always gets it exactly.
 */
export const keepClaimedAnswer = async <R>(
  idempotency: Idempotency,
  claim: string,
  answer: R,
  now: Date,
): Promise<{ response: R; replayed: boolean }> => {
  const kept = keptAnswer(idempotency, encodeAnswer(answer), claim, now);
  await writeParts(kept);
  const refused = await conditionalWrite(new UpdateCommand(keepUpdate(idempotency, claim, kept)));
  if (!refused) return { response: answer, replayed: false };
  const reading = readKeyRecordItem(refused.item, idempotency, now);
  // Kept already: by this very attempt (its answer lost), or by a request that took over.
  if (reading instanceof Replay)
    return { response: (await reading.answer()) as R, replayed: refused.item?.keptBy !== claim };
  throw new OutcomeUnknownError();
};

/**
 * Gives up a claim whose request ended without a kept answer, so that its repeat runs
 * again. If it wrote nothing, the key is free again (a 4xx uses up no key); if it wrote (or
 * may have written) parts, the record stays, open to this same request only: another
 * request under the key is 422, as it would meet the parts' own records. A claim that
 * cannot be given up now is taken over once stale.
 */
export const releaseClaim = async (
  idempotency: Idempotency,
  claim: string,
  wroteParts: boolean,
): Promise<void> => {
  const input = releaseInput(idempotency, claim, wroteParts);
  await sendWithRetries(() =>
    input.update ? new UpdateCommand(input.update) : new DeleteCommand(input.remove),
  );
};

/**
 * Completes the answer a key's record keeps with what was known only after the change (a
 * balance read after the movement), once: the first completion is the answer for good, and
 * every other, finding it done, answers with that one. An answer is given only once it is
 * kept, so a repeat gets it exactly; a completion whose outcome is unknown is OUTCOME_UNKNOWN.
 */
export const completeKeyRecord = async <R>(idempotency: Idempotency, response: R, now: Date): Promise<R> => {
  const kept = keptAnswer(idempotency, encodeAnswer(response), newAttemptId(), now);
  await writeParts(kept);
  const refused = await conditionalWrite(new UpdateCommand(completeUpdate(idempotency, kept)));
  if (!refused) return response;
  // Done already (by a repeat that found this one slow, or by this very attempt, its answer
  // lost): that answer is the one.
  const reading = readKeyRecordItem(refused.item, idempotency, now);
  if (reading instanceof Replay) return (await reading.answer()) as R;
  throw new OutcomeUnknownError();
};

/** The item a transaction's first action writes: where a large change leaves its claim. */
const targetOf = (action: WriteAction): StoredItem => {
  const request = action.request as { Put?: { Item?: StoredItem }; Update?: { Key?: StoredItem } };
  const item = request.Put?.Item ?? request.Update?.Key ?? {};
  return { [PK]: item[PK], [SK]: item[SK] };
};

/** The first action, leaving `claim` on its item, so a repeat can tell the change committed. */
const stamped = (actions: readonly WriteAction[], claim: string): WriteAction[] => {
  const [first, ...rest] = actions as WriteAction[];
  if (!first) return [];
  const request = first.request as {
    Put?: { Item?: StoredItem };
    Update?: {
      UpdateExpression?: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Record<string, unknown>;
    };
  };
  if (request.Put) {
    const Item = { ...request.Put.Item, [CLAIMS_ATTRIBUTE]: new Set([claim]) };
    return [
      { ...first, request: { Put: { ...request.Put, Item } } as unknown as WriteAction['request'] },
      ...rest,
    ];
  }
  const update = request.Update ?? {};
  const Update = {
    ...update,
    UpdateExpression: `${update.UpdateExpression ?? ''} ADD #claimStamp :claimStamp`,
    ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#claimStamp': CLAIMS_ATTRIBUTE },
    ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':claimStamp': new Set([claim]) },
  };
  return [{ ...first, request: { Update } as unknown as WriteAction['request'] }, ...rest];
};

/**
 * Commits `actions` with the key's record, once, keeping `response` for the key's repeats.
 * When they fit, the key's record is one more action of the same transaction, so the change
 * and the proof that it happened commit together or not at all; a refusal of the record is
 * this request's Replay or a reuse; refusals of the change come as `TransactionRefused`,
 * numbered as `actions` are. When they do not (more than the transaction takes, or an
 * answer kept in parts), the key is first claimed with the answer-to-be beside it, the
 * change is committed leaving the claim on its first item, and the answer is then kept:
 * a repeat that finds the claim stale can tell from that item whether the change committed.
 * Either way a key never changes what is accepted.
 */
export const commitWithKeyRecord = async (
  idempotency: Idempotency,
  actions: readonly WriteAction[],
  response: unknown,
  now: Date,
): Promise<void> => {
  const claim = newAttemptId();
  const kept = keptAnswer(idempotency, encodeAnswer(response), claim, now);
  if (kept.parts.length === 0 && actions.length + 1 <= MAX_TRANSACTION_ITEMS) {
    const action = asAction('Put', {
      input: keptRecordPut(idempotency, kept, now),
      rules: [keyUnused(idempotency, now)],
    });
    try {
      await transactAll([action, ...actions]);
      return;
    } catch (error) {
      if (!(error instanceof TransactionRefused)) throw error;
      const [first] = error.refusals;
      // The key's record decides before any other action: a repeat, a reuse, one running.
      if (first?.index !== 0)
        throw new TransactionRefused(
          error.refusals.map(({ index, error: refusal }) => ({ index: index - 1, error: refusal })),
        );
      if (!(first.error instanceof StaleClaim)) throw first.error;
      const settled = await settle(idempotency, first.error.record, now);
      throw settled === 'free' ? new IdempotencyInProgressError() : settled;
    }
  }
  await writeParts(kept);
  const { stored } = await claimKey(idempotency, now, {
    claim,
    pending: { kept, target: targetOf(actions[0] as WriteAction) },
  });
  if (stored) throw stored;
  try {
    await transactAll(stamped(actions, claim));
  } catch (error) {
    // Certainly not committed: the key is free again, as after any refusal.
    if (!(error instanceof AppError && error.code === 'OUTCOME_UNKNOWN'))
      await releaseClaim(idempotency, claim, false);
    throw error;
  }
  // The change committed, and its answer is the pending one: kept now, or, should this fail,
  // by the first repeat that finds the claim stale (see settle), which keeps the same answer.
  await conditionalWrite(new UpdateCommand(keepUpdate(idempotency, claim, kept))).catch(() => undefined);
};
