import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../db/client';
import { IdempotencyKeyReusedError } from '../errors';
import { allOf, ExpressionBuilder } from './expression';
import { IDEMPOTENCY_WINDOW_MS, type Idempotency } from './idempotency';
import { type StoredItem, transactionCancellation, translateSdkError } from './sdk-errors';
import { transactWrite } from './versioned-store';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** How long DynamoDB keeps an idempotency record; whether it still counts is decided by `at`. */
const RECORD_TTL_SECONDS = 2 * 24 * 3600;

export const idempotencyRecordKey = (keyHash: string) => ({ pk: `IDEM#${keyHash}`, sk: 'IDEM' });

/**
 * Runs `actions` and writes the Idempotency-Key's record in the same TransactWriteItems,
 * so the change and the proof that it happened commit together or not at all: a replay can
 * never apply twice, and a retry after a lost response finds the record and gets the first
 * answer (`response`) from it, read out of `CancellationReasons`, without a read first.
 *
 * `explain` turns the failed condition of action `index` (with the item as it was stored)
 * into a domain error; it runs only when the key's record did not decide the outcome.
 */
export const transactOnce = async <R>(
  idempotency: Idempotency,
  actions: readonly TransactItem[],
  response: R,
  explain: (index: number, item: StoredItem | undefined) => never,
  context: { now: Date },
): Promise<{ response: R; replayed: boolean }> => {
  const x = new ExpressionBuilder();
  const record = {
    ...idempotencyRecordKey(idempotency.keyHash),
    h: idempotency.requestHash,
    response,
    at: context.now.getTime(),
    expiresAt: Math.floor(context.now.getTime() / 1000) + RECORD_TTL_SECONDS,
  };
  const condition = allOf([
    // The key is new, or remembered past its window (by timestamp, whatever TTL has removed).
    `attribute_not_exists(${x.name('pk')}) OR ${x.name('at')} < ${x.value(context.now.getTime() - IDEMPOTENCY_WINDOW_MS)}`,
  ]);
  try {
    await transactWrite({
      TransactItems: [
        ...actions,
        {
          Put: {
            TableName: tableName(),
            Item: record,
            ConditionExpression: condition,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...x.attributes(),
          },
        },
      ],
    });
    return { response, replayed: false };
  } catch (error) {
    const reasons = transactionCancellation(error);
    if (!reasons) return translateSdkError(error);
    const keyReason = reasons[actions.length];
    if (keyReason?.code === 'ConditionalCheckFailed') {
      const stored = keyReason.item;
      if (stored?.h !== idempotency.requestHash) throw new IdempotencyKeyReusedError();
      return { response: stored.response as R, replayed: true };
    }
    const failed = reasons.findIndex((reason) => reason.code === 'ConditionalCheckFailed');
    if (failed >= 0 && failed < actions.length) explain(failed, reasons[failed]?.item);
    return translateSdkError(error);
  }
};
