import type { PutCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { OutcomeUnknownError, WriteContentionError } from '../../errors';
import { AppError } from '../../problems';
import type { AttemptTag } from '../build/attempts';
import type { StoredItem } from '../build/items';
import type { Idempotency } from '../build/key-record';
import { type PublicRecord, toPublicRecord } from '../build/records';
import type { Built, changeRequest } from '../build/requests';
import { firstBroken, MovedError } from '../build/rules';
import { appliedVersionOf, attemptUnder, type Precondition } from '../build/version';
import {
  type ItemWritten,
  putItem,
  TransactionRefused,
  transact,
  updateItem,
  type WriteAction,
} from '../send/writes';
import { claimKey, keepClaimedAnswer, lookUpKey, releaseClaim } from './claims';
import { commitWithKeyRecord } from './keyed-commit';
import { Replay } from './replay';

/**
 * Where a change is made once: the one place that chooses between the keyless form (one
 * single-item write recognising its own attempt, or a transaction recognised by its token)
 * and the keyed form (the change and its key's record in one transaction). The features
 * (records, aggregates, field groups, leases, counters) only describe their change: they
 * return requests and plans, never send.
 */

export interface Committed<R> {
  response: R;
  /** True when this answers a repeat of a request already applied under the same key. */
  replayed: boolean;
  /**
   * The version this request wrote, when it was recognised as applied after its answer was
   * lost and the answer is the record as it is now, changed by others since.
   */
  appliedVersion?: number;
}

/** What a change plans from what it read: the actions of one transaction and its answer. */
export interface Plan<R> {
  actions: readonly WriteAction[];
  response: R;
}

/** The answer a single-item write gives from the item it leaves (or finds, recognised). */
export interface ItemAnswer<R> {
  response: R;
  appliedVersion?: number | undefined;
}

/** A keyless change as one single-item write: its request per attempt and its answer. */
export interface ItemChange<R> {
  kind: 'Put' | 'Update';
  tag: AttemptTag;
  /** The request; `again` when an earlier attempt may have landed. */
  build: (again: boolean) => Built<PutCommandInput | UpdateCommandInput>;
  answer: (written: ItemWritten) => ItemAnswer<R>;
}

/**
 * A change made once. `read` and `plan` describe it as one transaction (with a key, its
 * key's record joins it); `item`, where given, is its keyless form as one single-item write.
 */
export interface OnceChange<S, R> {
  item?: () => ItemChange<R>;
  read: () => Promise<S>;
  plan: (state: S) => Plan<R>;
}

export interface CommitContext {
  idempotency?: Idempotency | undefined;
  now: Date;
}

/** Reads of a pinned write whose item keeps moving before it answers WRITE_CONTENTION. */
export const PIN_ATTEMPTS = 4;

/**
 * Makes `change` once: keyless with a single-item form, that one write; otherwise read, plan
 * and commit, with the key's record when there is a key. A refusal found in the read writes
 * nothing; with a key it is first checked against the key's record, since it may be this
 * very request's repeat, which moved the record on. A pinned write whose item moved since
 * the read (MovedError) reads again.
 */
export const commit = async <S, R>(
  change: OnceChange<S, R>,
  context: CommitContext,
): Promise<Committed<R>> => {
  const { idempotency, now } = context;
  if (change.item && !idempotency) {
    const item = change.item();
    const written = item.kind === 'Put' ? await putItem(item as never) : await updateItem(item as never);
    const { response, appliedVersion } = item.answer(written);
    return { response, replayed: false, ...(appliedVersion === undefined ? {} : { appliedVersion }) };
  }
  for (let attempt = 1; attempt <= PIN_ATTEMPTS; attempt += 1) {
    let plan: Plan<R>;
    try {
      plan = change.plan(await change.read());
    } catch (error) {
      if (idempotency && error instanceof AppError) {
        const stored = await lookUpKey(idempotency, now);
        if (stored instanceof Replay) return { response: (await stored.answer()) as R, replayed: true };
        if (stored) throw stored;
      }
      throw error;
    }
    try {
      if (idempotency) return await commitOnce(idempotency, plan.actions, plan.response, now);
      await transact(plan.actions);
      return { response: plan.response, replayed: false };
    } catch (error) {
      if (!(error instanceof MovedError)) throw error;
    }
  }
  throw new WriteContentionError(1);
};

/**
 * Commits `actions` with the key's record, once: the change happens once per key, and a
 * repeat, however the record changed since, gets `response`, the first answer, from the
 * key's record.
 */
export const commitOnce = async <R>(
  idempotency: Idempotency,
  actions: readonly WriteAction[],
  response: R,
  now: Date,
): Promise<Committed<R>> => {
  try {
    await commitWithKeyRecord(idempotency, actions, response, now);
    return { response, replayed: false };
  } catch (error) {
    if (error instanceof Replay) return { response: (await error.answer()) as R, replayed: true };
    // Like `transact`: the refusal of the first action that failed.
    if (error instanceof TransactionRefused && error.refusals[0]) throw error.refusals[0].error;
    throw error;
  }
};

/** The answer of a request made of parts: whether it may be kept under the key for its repeats. */
export interface PartsAnswer<R> {
  answer: R;
  /** False when a part's outcome is unknown: its repeat must run again to learn it. */
  keep: boolean;
}

/**
 * A request made of parts (batch items, field groups), each written once with its own key
 * record, made once as a whole under its key: the key is claimed before any part is written
 * (so a twin is 409 in progress and another request under the key 422, before either
 * writes), `run` does the parts and gives the answer, and the answer is kept, once, before it
 * is given. A request that ends without a kept answer (a 4xx, a 5xx, a part whose outcome is
 * unknown, a failure to keep it) gives up its claim: its repeat runs again, and every part
 * it had written is recognised by its own record. `run` calls `wrote` once a part is (or may
 * have been) written.
 */
export const onceInParts = async <R>(
  idempotency: Idempotency,
  now: Date,
  run: (wrote: () => void) => Promise<PartsAnswer<R>>,
): Promise<Committed<R>> => {
  const { claim, stored } = await claimKey(idempotency, now);
  if (stored) return { response: (await stored.answer()) as R, replayed: true };
  let wroteParts = false;
  const wrote = () => {
    wroteParts = true;
  };
  let result: PartsAnswer<R>;
  try {
    result = await run(wrote);
  } catch (error) {
    await releaseClaim(idempotency, claim, wroteParts);
    throw error;
  }
  if (!result.keep) {
    await releaseClaim(idempotency, claim, true);
    return { response: result.answer, replayed: false };
  }
  try {
    return await keepClaimedAnswer(idempotency, claim, result.answer, now);
  } catch (error) {
    await releaseClaim(idempotency, claim, wroteParts);
    // Parts were written: the answer is in doubt, and the repeat gives it. None were: the
    // request wrote nothing, and its key is free again.
    throw wroteParts && !AppError.is(error, 'OUTCOME_UNKNOWN') ? new OutcomeUnknownError() : error;
  }
};

/**
 * A plan made from an item as read: its rules are checked against the read first, so a
 * request the read already refuses writes nothing, then the write goes with the same rules.
 */
export const planFromRead = <R>(
  item: StoredItem | undefined,
  actions: readonly WriteAction[],
  response: (item: StoredItem) => R,
): Plan<R> => {
  const refused = firstBroken(actions[0]?.rules ?? [], item);
  if (refused) throw refused;
  return { actions, response: response(item as StoredItem) };
};

/**
 * A single-item change of a record, answered with the record it leaves: as written, or, for
 * an attempt recognised as applied after its answer was lost, as it is now, with the
 * version this change wrote when others changed it since.
 */
export const recordAnswer =
  <R>(now: Date, wrap: (record: PublicRecord) => R) =>
  (written: ItemWritten) => {
    const record = toPublicRecord(written.item, now);
    return { response: wrap(record), ...appliedVersionOf(record, written.recognised) };
  };

/** The keyless form of a change to one item: one UpdateItem carrying its attempt. */
export const itemUpdate =
  <R>(
    precondition: Precondition,
    build: (attempt: {
      tag: ReturnType<typeof attemptUnder>;
      again: boolean;
    }) => ReturnType<typeof changeRequest>,
    answer: ItemChange<R>['answer'],
  ): (() => ItemChange<R>) =>
  () => {
    const tag = attemptUnder(precondition);
    return { kind: 'Update', tag, build: (again) => build({ tag, again }), answer };
  };
