import { randomUUID } from 'node:crypto';
import {
  PutCommand,
  type PutCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { now as clockNow } from '../../clock';
import { noteCause } from '../../db/request-stats';
import {
  conditionFailure,
  isTransactionInProgress,
  isWriteCollision,
  transactionCancellation,
} from '../../db/sdk-errors';
import { OutcomeUnknownError, WriteContentionError } from '../../errors';
import { type AttemptTag, type Recognised, recognise } from '../build/attempts';
import type { StoredItem } from '../build/items';
import { PK, SK } from '../build/keys';
import type { Built } from '../build/requests';
import { decideFailure, type Rule } from '../build/rules';
import { readItem } from './reads';
import { anyMayHaveApplied, type FailedAttempt, sendWithRetries } from './send';
import { translateSdkError } from './translate';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's limit on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

/**
 * How long DynamoDB recognises a transaction sent again under its ClientRequestToken (10
 * minutes), less a minute for the two clocks: past it, the same token is a new request.
 */
export const TOKEN_WINDOW_MS = 9 * 60 * 1000;

/**
 * The answer to a request none of whose attempts was applied, or can have been: THROTTLED
 * when DynamoDB kept throttling, WRITE_CONTENTION when transactions kept holding the items,
 * else the error as it is (a 500). Only ever for a request that wrote nothing.
 */
const nothingWritten = (error: unknown): never => {
  if (isWriteCollision(error)) throw new WriteContentionError(1);
  return translateSdkError(error);
};

/**
 * The answer to a write whose attempts all failed without a refusal: certainly nothing
 * written (see nothingWritten), or, when one of them may have been applied and nothing
 * can say, OUTCOME_UNKNOWN, never a guess.
 */
const failedWrite = (sent: { error: unknown; failed: readonly FailedAttempt[] }): never => {
  if (anyMayHaveApplied(sent.failed)) throw outcomeUnknown(sent.error);
  return nothingWritten(sent.error);
};

/** OUTCOME_UNKNOWN, its cause (what the last attempt met) kept for the request's log line. */
const outcomeUnknown = (cause: unknown): OutcomeUnknownError => {
  noteCause(String((cause as Error | undefined)?.stack ?? cause));
  return new OutcomeUnknownError();
};

/**
 * One single-item write as the pure builders make it: for its first attempt, or (`again`)
 * for one sent after an attempt that may have landed, which carries what recognises it.
 */
export interface ItemWrite<I> {
  build: (again: boolean) => Built<I>;
  tag: AttemptTag;
}

export interface ItemWritten {
  /** The item as written, or, for an attempt found applied already, as it is now. */
  item: StoredItem;
  /** What the attempt found applied already left (the version it produced); absent when written now. */
  recognised?: Recognised;
}

/**
 * Sends a single-item write: the item as written, or what its failure means. A failed
 * condition is read against the rules, and, when an earlier attempt of this write may have
 * landed, against the attempt first (applied: answered so; past what the item can tell:
 * OUTCOME_UNKNOWN). When the attempts ran out and one may have landed, one consistent read
 * asks the item; that failing too, OUTCOME_UNKNOWN.
 */
const writeItem = async <I>(
  write: ItemWrite<I>,
  first: Built<I>,
  key: Record<string, unknown>,
  command: (input: I) => PutCommand | UpdateCommand,
): Promise<ItemWritten> => {
  let built = first;
  const sent = await sendWithRetries<{ Attributes?: StoredItem }>((failed) => {
    // Sent again after an attempt that may have landed: in the form that recognises it.
    if (anyMayHaveApplied(failed) && built === first) built = write.build(true);
    return command(built.input);
  });
  const { rules } = built;
  if (sent.ok) return { item: sent.output.Attributes ?? {} };
  const again = anyMayHaveApplied(sent.failed) ? write.tag : undefined;
  const failure = conditionFailure(sent.error);
  if (failure) {
    const meaning = decideFailure(failure.item, rules, again);
    if ('refused' in meaning) throw meaning.refused;
    return { item: meaning.applied, recognised: meaning.recognised };
  }
  if (!again) return nothingWritten(sent.error);
  const item = await readItem(key).catch(() => {
    throw outcomeUnknown(sent.error);
  });
  const recognition = recognise(item, again);
  if (recognition === 'unknowable') throw outcomeUnknown(sent.error);
  if (recognition === 'absent') return nothingWritten(sent.error);
  return { item: item as StoredItem, recognised: recognition.applied };
};

/** An UpdateItem: the item as written (ALL_NEW), or what its failure means (see writeItem). */
export const updateItem = (write: ItemWrite<UpdateCommandInput>): Promise<ItemWritten> => {
  const first = write.build(false);
  return writeItem(
    write,
    first,
    first.input.Key ?? {},
    (input) =>
      new UpdateCommand({
        ...input,
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
  );
};

/** A PutItem of a new item: the item as written, or what its failure means (see writeItem). */
export const putItem = (write: ItemWrite<PutCommandInput>): Promise<ItemWritten> => {
  const first = write.build(false);
  const item = first.input.Item ?? {};
  return writeItem(
    write,
    first,
    { [PK]: item[PK], [SK]: item[SK] },
    (input) => new PutCommand({ ...input, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
  ).then((written) => (written.recognised ? written : { item }));
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
 * Whether an attempt under the token in use may have been applied: a cancelled transaction
 * applied nothing, and the next attempt goes under a new token.
 */
const mayHaveAppliedUnderToken = (failed: readonly FailedAttempt[]): boolean => {
  for (const attempt of [...failed].reverse()) {
    if (transactionCancellation(attempt.error)) return false;
    if (attempt.mayHaveApplied) return true;
  }
  return false;
};

/**
 * Sends the actions as one TransactWriteItems under a ClientRequestToken, so DynamoDB itself
 * answers an attempt sent again after a lost answer, or while the first is still in progress,
 * as the one that committed, without writing again. Every attempt goes under the same token
 * but after a cancellation (nothing under that token was applied); none goes once the token
 * is older than DynamoDB remembers it. A cancellation by conditions is read action by
 * action with each action's own rules (`TransactionRefused`); a transaction that may have
 * committed and cannot be asked again is OUTCOME_UNKNOWN.
 */
export const transactAll = async (actions: readonly WriteAction[]): Promise<void> => {
  const TransactItems = actions.map((action) => withAllOld(action.request));
  let token = randomUUID();
  let since = clockNow().getTime();
  const sent = await sendWithRetries((failed) => {
    const last = failed.at(-1);
    if (last && transactionCancellation(last.error)) {
      token = randomUUID();
      since = clockNow().getTime();
    }
    if (mayHaveAppliedUnderToken(failed) && clockNow().getTime() - since >= TOKEN_WINDOW_MS) return undefined;
    return new TransactWriteCommand({ TransactItems, ClientRequestToken: token });
  });
  if (sent.ok) return;
  const reasons = transactionCancellation(sent.error);
  if (reasons?.some((reason) => reason.code === 'ConditionalCheckFailed')) {
    const refusals = reasons.flatMap((reason, index) => {
      if (reason.code !== 'ConditionalCheckFailed') return [];
      const meaning = decideFailure(reason.item, actions[index]?.rules ?? []);
      return 'refused' in meaning ? [{ index, error: meaning.refused }] : [];
    });
    throw new TransactionRefused(refusals);
  }
  if (mayHaveAppliedUnderToken(sent.failed) || isTransactionInProgress(sent.error))
    throw outcomeUnknown(sent.error);
  return nothingWritten(sent.error);
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

/**
 * A conditional single-item write that needs no attempt id, as what its condition meets
 * says whether it is its own (a key's record, by its claim id or kept answer): sent with
 * retries; undefined when written, `{ item }` (ALL_OLD) when its condition failed. A failure
 * past every retry is OUTCOME_UNKNOWN when an attempt may have been applied, else what it
 * is (nothing written).
 */
export const conditionalWrite = async (
  command: PutCommand | UpdateCommand,
): Promise<{ item: StoredItem | undefined } | undefined> => {
  const sent = await sendWithRetries(() => command);
  if (sent.ok) return undefined;
  return conditionFailure(sent.error) ?? failedWrite(sent);
};
