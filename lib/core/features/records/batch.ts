import { BatchRejectedError, StaleDataError, TooManyChangesError } from '../../../errors';
import { AppError } from '../../../problems';
import { forPart } from '../../build/key-record';
import type { EntitySpec } from '../../build/keys';
import type { PublicRecord, WriteContext } from '../../build/records';
import { changeRequest } from '../../build/requests';
import { commitOnce, onceInParts } from '../../once/commit';
import { commitWithKeyRecord } from '../../once/keyed-commit';
import { Replay } from '../../once/replay';
import { mapWithConcurrency } from '../../send/backoff';
import { partFailure } from '../../send/translate';
import {
  asAction,
  MAX_TRANSACTION_ITEMS,
  TransactionRefused,
  transactAll,
  type WriteAction,
} from '../../send/writes';
import { changeRecord } from './store';

/** Upper bound on conditional writes one batch keeps in flight. */
export const BATCH_CONCURRENCY = 10;

export interface BatchUpdate {
  id: string;
  version: number;
  set: Record<string, unknown>;
}

export type BatchItemResult =
  | { id: string; status: 200; version: number }
  | { id: string; status: number; code: string; current?: PublicRecord; changeAlreadyPresent?: true };

export interface BatchResult {
  results: BatchItemResult[];
  /** True when this answers a repeat of the same request under its Idempotency-Key. */
  replayed: boolean;
}

const failedItem = (id: string, error: AppError): BatchItemResult => ({
  id,
  status: error.status,
  code: error.code,
  ...(error instanceof StaleDataError ? { current: error.current as PublicRecord } : {}),
  ...(error instanceof StaleDataError && error.changeAlreadyPresent ? { changeAlreadyPresent: true } : {}),
});

const applied = (update: BatchUpdate): BatchItemResult => ({
  id: update.id,
  status: 200,
  version: update.version + 1,
});

const updateAction = (entity: EntitySpec, update: BatchUpdate, context: WriteContext) =>
  asAction(
    'Update',
    changeRequest(
      entity,
      update.id,
      { kind: 'version', version: update.version },
      { set: update.set, remove: [] },
      context,
    ),
  );

/**
 * Applies each update on its own, at most BATCH_CONCURRENCY in flight; every item succeeds
 * or fails by itself, and the results keep the request's order. With a key, each item is a
 * part with its own key record (in the same transaction as its change), so an item applies
 * once however often the batch is repeated, and the whole answer is kept under the key.
 */
export const changeEach = async (
  entity: EntitySpec,
  updates: readonly BatchUpdate[],
  context: WriteContext,
): Promise<BatchResult> => {
  const { idempotency, now } = context;
  const each = (wrote?: () => void) =>
    mapWithConcurrency(updates, BATCH_CONCURRENCY, async (update) => {
      try {
        if (!idempotency) {
          const { record } = await changeRecord(
            entity,
            update.id,
            { kind: 'version', version: update.version, source: 'body' },
            { set: update.set, remove: [] },
            context,
          );
          return { id: update.id, status: 200, version: record.version } as BatchItemResult;
        }
        const { response } = await commitOnce(
          forPart(idempotency, update.id),
          [updateAction(entity, update, context)],
          applied(update),
          now,
        );
        wrote?.();
        return response;
      } catch (error) {
        // An item whose outcome is unknown may have been written: its repeat runs again.
        if (AppError.is(error, 'OUTCOME_UNKNOWN')) wrote?.();
        // An item fails by itself, whatever failed it: the others stand as written.
        return failedItem(update.id, partFailure(error));
      }
    });
  if (!idempotency) return { results: await each(), replayed: false };
  const { response, replayed } = await onceInParts(idempotency, now, async (wrote) => {
    const results = await each(wrote);
    // An answer that says an item's outcome is unknown is not kept: its repeat learns it.
    return {
      answer: { results },
      keep: results.every((result) => result.status !== 503 || result.code !== 'OUTCOME_UNKNOWN'),
    };
  });
  return { ...response, replayed };
};

/**
 * Applies all updates in one transaction, in one moment, or none: any item that fails its
 * rules rejects the whole batch, naming every failing id. With a key, the key's record is
 * kept with it.
 */
export const changeAll = async (
  entity: EntitySpec,
  updates: readonly BatchUpdate[],
  context: WriteContext,
): Promise<BatchResult> => {
  const { idempotency, now } = context;
  const results = updates.map(applied);
  if (updates.length > MAX_TRANSACTION_ITEMS)
    throw new TooManyChangesError(updates.length, MAX_TRANSACTION_ITEMS);
  const actions: WriteAction[] = updates.map((update) => updateAction(entity, update, context));
  try {
    if (idempotency) await commitWithKeyRecord(idempotency, actions, { results }, now);
    else await transactAll(actions);
    return { results, replayed: false };
  } catch (error) {
    if (error instanceof Replay) {
      return { ...((await error.answer()) as { results: BatchItemResult[] }), replayed: true };
    }
    if (!(error instanceof TransactionRefused)) throw error;
    const failures = error.refusals.map(({ index, error: refusal }) => {
      const update = updates[index] as BatchUpdate;
      if (!(refusal instanceof AppError)) throw refusal;
      return failedItem(update.id, refusal);
    });
    throw new BatchRejectedError(error.refusals[0]?.error as AppError, failures);
  }
};
