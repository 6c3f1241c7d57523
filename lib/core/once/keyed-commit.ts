import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyInProgressError } from '../../errors';
import { AppError } from '../../problems';
import { newAttemptId } from '../build/attempts';
import type { StoredItem } from '../build/items';
import {
  CLAIMS_ATTRIBUTE,
  encodeAnswer,
  type Idempotency,
  keepUpdate,
  keptAnswer,
  keptRecordPut,
} from '../build/key-record';
import { PK, SK } from '../build/keys';
import {
  asAction,
  conditionalWrite,
  MAX_TRANSACTION_ITEMS,
  TransactionRefused,
  transactAll,
  type WriteAction,
} from '../send/writes';
import { claimKey, releaseClaim, settle, writeParts } from './claims';
import { keyUnused, StaleClaim } from './replay';

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
