import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  IdempotencyInProgressError,
  type IdempotencyKeyReusedError,
  OutcomeUnknownError,
} from '../../errors';
import { newAttemptId } from '../build/attempts';
import type { StoredItem } from '../build/items';
import {
  CLAIMS_ATTRIBUTE,
  claimPut,
  completeUpdate,
  encodeAnswer,
  type Idempotency,
  type KeptAnswer,
  keepUpdate,
  keptAnswer,
  keyRecordKey,
  releaseInput,
} from '../build/key-record';
import { readItem } from '../send/reads';
import { sendWithRetries } from '../send/send';
import { conditionalWrite } from '../send/writes';
import { Replay, readKeyRecordItem, StaleClaim } from './replay';

/**
 * The flows of a key claimed before its request writes: a request made of parts, or a change
 * too large for one transaction with its key's record. A claim is settled, kept, released or
 * taken over here; each reading of the record is replay.ts.
 */

/**
 * A claim whose claimant's time is up: if it was a change too large for one transaction
 * and its change committed (its target bears the claim), its pending answer is kept for
 * good and is this request's replay; otherwise nothing of it stands and it may be taken over.
 */
export const settle = async (
  idempotency: Idempotency,
  record: StoredItem,
  now: Date,
): Promise<Replay | 'free'> => {
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
export const writeParts = async (kept: KeptAnswer): Promise<void> => {
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
