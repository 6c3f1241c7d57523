import { randomUUID } from 'node:crypto';
import {
  GetCommand,
  PutCommand,
  type PutCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import { note } from '../db/request-stats';
import { WriteContentionError } from '../errors';
import { isOwnAttempt } from './attempts';
import { PK, SK } from './keys';
import { retryWithBackoff } from './retry';
import { decideFailure, type Rule } from './rules';
import {
  conditionFailure,
  isThrottling,
  isWriteCollision,
  type StoredItem,
  transactionCancellation,
  translateSdkError,
} from './sdk-errors';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's limit on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

/** Attempts of a write that keeps colliding with transactions on its items, before WRITE_CONTENTION. */
export const WRITE_ATTEMPTS = 4;

/**
 * Sends a write, retrying only collisions with transactions on the same items (the SDK
 * retries none of them: `TransactionConflictException` on a single-item write,
 * `TransactionInProgressException`, a transaction cancelled for `TransactionConflict`),
 * with full-jitter backoff; then WRITE_CONTENTION. Throttling that outlasted the SDK's own
 * retries is THROTTLED. Everything else goes to the caller as it is.
 */
export const sendWrite = async <T>(send: () => Promise<T>): Promise<T> => {
  try {
    return await retryWithBackoff(send, isWriteCollision, {
      attempts: WRITE_ATTEMPTS,
      baseMs: 20,
      capMs: 400,
      onRetry: () => note('contentionRetries'),
    });
  } catch (error) {
    if (isWriteCollision(error)) throw new WriteContentionError(1);
    throw error;
  }
};

/** One single-item write as the pure builders make it: the input, its rules, its attempt id. */
export interface ItemWrite<I> {
  input: I;
  rules: readonly Rule[];
  /** The id this attempt leaves on the item, so its own retry is recognised. */
  attemptId: string;
}

export interface ItemWritten {
  /** The item as written, or, for an attempt found already applied, as it is now. */
  item: StoredItem;
  /** True when the SDK's retry found this very attempt applied already. */
  ownRetry: boolean;
}

/** Reads one item, strongly consistent, as stored (tombstones and bookkeeping included). */
export const readItem = async (key: Record<string, unknown>): Promise<StoredItem | undefined> => {
  const { Item } = await db()
    .send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }))
    .catch(translateSdkError);
  return Item;
};

/**
 * Throttling that outlasted the SDK's retries says nothing of an earlier attempt of this
 * write whose response was lost: it may have landed. Before the answer is 503, one
 * consistent read asks the item whether this attempt's id is on it; if it is, the write was
 * applied, and is answered so. (That read throttled too: 503.)
 */
const onThrottling = async (
  error: unknown,
  write: ItemWrite<unknown>,
  key: Record<string, unknown>,
): Promise<ItemWritten> => {
  const item = await readItem(key).catch(() => undefined);
  if (item && isOwnAttempt(item, write.attemptId)) return { item, ownRetry: true };
  return translateSdkError(error);
};

const onConditionFailure = (error: unknown, write: ItemWrite<unknown>): ItemWritten => {
  const failure = conditionFailure(error);
  if (!failure) return translateSdkError(error);
  const meaning = decideFailure(failure.item, write.rules, write.attemptId);
  if ('refused' in meaning) throw meaning.refused;
  return { item: meaning.applied, ownRetry: true };
};

/** An UpdateItem: the item as written (ALL_NEW), or what its failed condition means. */
export const updateItem = async (write: ItemWrite<UpdateCommandInput>): Promise<ItemWritten> => {
  try {
    const { Attributes } = await sendWrite(() =>
      db().send(
        new UpdateCommand({
          ...write.input,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    return { item: Attributes ?? {}, ownRetry: false };
  } catch (error) {
    if (isThrottling(error)) return onThrottling(error, write, write.input.Key ?? {});
    return onConditionFailure(error, write);
  }
};

/** A PutItem of a new item: the item, or what its failed condition means. */
export const putItem = async (write: ItemWrite<PutCommandInput>): Promise<ItemWritten> => {
  try {
    await sendWrite(() =>
      db().send(new PutCommand({ ...write.input, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
    );
    return { item: write.input.Item ?? {}, ownRetry: false };
  } catch (error) {
    const item = write.input.Item ?? {};
    if (isThrottling(error)) return onThrottling(error, write, { [PK]: item[PK], [SK]: item[SK] });
    return onConditionFailure(error, write);
  }
};

/** One action of a transaction with the rules that read its cancellation reason. */
export interface WriteAction {
  request: TransactItem;
  rules: readonly Rule[];
}

/** A built request as one action of a transaction. */
export const asAction = (
  kind: 'Put' | 'Delete' | 'Update',
  built: { input: object; rules: readonly Rule[] },
): WriteAction => ({
  request: { [kind]: built.input } as WriteAction['request'],
  rules: built.rules,
});

/** Every action's refusal, in the order of the actions, when a transaction was cancelled by conditions. */
export class TransactionRefused extends Error {
  constructor(readonly refusals: readonly { index: number; error: Error }[]) {
    super('A transaction was cancelled by its conditions.');
    this.name = 'TransactionRefused';
  }
}

const withAllOld = (request: TransactItem): TransactItem => {
  const [kind, body] = Object.entries(request)[0] as [string, object];
  return { [kind]: { ...body, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } } as TransactItem;
};

/**
 * Sends the actions as one TransactWriteItems with a ClientRequestToken, which the SDK
 * re-sends on its own retries, so DynamoDB itself answers a retry after a lost response as
 * the success it was, without writing again. A cancellation by conditions is
 * read action by action with each action's own rules: `TransactionRefused` names each.
 */
export const transactAll = async (actions: readonly WriteAction[]): Promise<void> => {
  const TransactItems = actions.map((action) => withAllOld(action.request));
  let token = randomUUID();
  const send = () =>
    sendWrite(async () => {
      try {
        return await db().send(new TransactWriteCommand({ TransactItems, ClientRequestToken: token }));
      } catch (error) {
        // One still in progress under this token may yet commit, and throttling may follow an
        // attempt that did: what is sent next must carry the same token, so DynamoDB answers
        // it as that one. A cancelled one was not applied: its retry is a new request.
        if (
          !isThrottling(error) &&
          !(error instanceof Error && error.name === 'TransactionInProgressException')
        )
          token = randomUUID();
        throw error;
      }
    });
  try {
    await send().catch((error: unknown) => {
      // Throttling that outlasted the SDK's retries says nothing of an earlier attempt whose
      // response was lost: it may have committed. Sent once more under the same token, one
      // that committed is answered as the success it was, without writing again; one that
      // did not is this request's next attempt. (Throttled again: 503.)
      if (isThrottling(error)) return send();
      throw error;
    });
  } catch (error) {
    const reasons = transactionCancellation(error);
    if (!reasons?.some((reason) => reason.code === 'ConditionalCheckFailed')) return translateSdkError(error);
    const refusals = reasons.flatMap((reason, index) => {
      if (reason.code !== 'ConditionalCheckFailed') return [];
      const meaning = decideFailure(reason.item, actions[index]?.rules ?? []);
      return 'refused' in meaning ? [{ index, error: meaning.refused }] : [];
    });
    throw new TransactionRefused(refusals);
  }
};

/** `transactAll`, answering a cancellation with the refusal of the first action that failed. */
export const transact = async (actions: readonly WriteAction[]): Promise<void> => {
  try {
    await transactAll(actions);
  } catch (error) {
    if (error instanceof TransactionRefused && error.refusals[0]) throw error.refusals[0].error;
    throw error;
  }
};
