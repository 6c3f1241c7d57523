import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { AppError, WriteContentionError } from '../errors';
import { newAttemptId } from './attempts';
import {
  claimKey,
  type Idempotency,
  keepClaimedAnswer,
  keyRecordAction,
  lookUpKey,
  Replay,
  releaseClaim,
} from './idempotency';
import type { Built } from './requests';
import { MovedError } from './rules';
import type { StoredItem } from './sdk-errors';
import { asAction, transact, updateItem, type WriteAction } from './writes';

export interface Committed<R> {
  response: R;
  /** True when this answers a repeat of a request already applied under the same key. */
  replayed: boolean;
}

/**
 * Commits `actions` with the key's record in one TransactWriteItems (the record first, so
 * its reading decides before any other): the change happens once per key, and a repeat,
 * however the record changed since, gets `response`, the first answer, from the key's record.
 */
export const commitOnce = async <R>(
  idempotency: Idempotency,
  actions: readonly WriteAction[],
  response: R,
  now: Date,
): Promise<Committed<R>> => {
  try {
    await transact([keyRecordAction(idempotency, response, now), ...actions]);
    return { response, replayed: false };
  } catch (error) {
    if (error instanceof Replay) return { response: error.response as R, replayed: true };
    throw error;
  }
};

/**
 * A change to one item, made once, answered from that item. Without a key: one UpdateItem
 * carrying its attempt id (`build`), so the SDK's retry of this very attempt is recognised
 * as applied, answered from the item as written. With one: `keyed` reads what its answer
 * needs (nothing, for updateOnce), plans the change and commits it with the key's record
 * (planAndCommit).
 */
export const updateItemOnce = async <S, R>(
  keyless: { build: (attemptId: string) => Built<UpdateCommandInput>; answer: (written: StoredItem) => R },
  keyed: { read: () => Promise<S>; plan: (state: S) => Plan<R> },
  context: { idempotency?: Idempotency | undefined; now: Date },
): Promise<Committed<R>> => {
  if (context.idempotency) return planAndCommit(keyed, context);
  const attemptId = newAttemptId();
  const { item } = await updateItem({ ...keyless.build(attemptId), attemptId });
  return { response: keyless.answer(item), replayed: false };
};

/**
 * A single-item write whose answer needs nothing read (a delete, a lock release), made once:
 * without a key, one UpdateItem carrying its attempt id; with one, that update and the key's
 * record in one transaction. `build` makes the request, with the attempt id when given.
 */
export const updateOnce = async (
  build: (attemptId?: string) => Built<UpdateCommandInput>,
  context: { idempotency?: Idempotency | undefined; now: Date },
): Promise<{ replayed: boolean }> => {
  const { replayed } = await updateItemOnce(
    { build, answer: () => ({}) },
    { read: async () => undefined, plan: () => ({ actions: [asAction('Update', build())], response: {} }) },
    context,
  );
  return { replayed };
};

/**
 * A request made of parts (batch items, field groups), each written once with its own key
 * record, made once as a whole under its key: the key is claimed before any part is
 * written (so a twin is 409 in progress and another request under the key 422, before
 * either writes), `run` does the parts and gives the answer, and the answer is kept, once,
 * before it is given. A request that ends without a kept answer (a 4xx, a 5xx, a failure to
 * keep it) gives up its claim: its repeat runs again, and every part it had written is
 * recognised by its own record. `run` calls `wrote` once a part is written.
 */
export const onceInParts = async <R>(
  idempotency: Idempotency,
  now: Date,
  run: (wrote: () => void) => Promise<R>,
): Promise<Committed<R>> => {
  const claim = newAttemptId();
  const stored = await claimKey(idempotency, claim, now);
  if (stored) return { response: stored.response as R, replayed: true };
  let wroteParts = false;
  try {
    const answer = await run(() => {
      wroteParts = true;
    });
    return await keepClaimedAnswer(idempotency, claim, answer, now);
  } catch (error) {
    await releaseClaim(idempotency, claim, wroteParts);
    throw error;
  }
};

/** Reads of a pinned write whose item keeps moving before it answers WRITE_CONTENTION. */
export const PIN_ATTEMPTS = 4;

export interface Plan<R> {
  actions: readonly WriteAction[];
  response: R;
}

/**
 * A transactional change whose answer needs the state it changes: read, plan the actions and
 * the answer from what was read (a refusal found in the read writes nothing), commit. With a
 * key the key's record goes into the same transaction; a refusal found in the read is first
 * checked against the key's record, since it may be this very request's repeat, which moved
 * the record on. A pinned write whose item moved since the read (MovedError) reads again.
 */
export const planAndCommit = async <S, R>(
  steps: { read: () => Promise<S>; plan: (state: S) => Plan<R> },
  context: { idempotency?: Idempotency | undefined; now: Date },
): Promise<Committed<R>> => {
  const { idempotency, now } = context;
  for (let attempt = 1; attempt <= PIN_ATTEMPTS; attempt += 1) {
    let plan: Plan<R>;
    try {
      plan = steps.plan(await steps.read());
    } catch (error) {
      if (idempotency && error instanceof AppError) {
        const stored = await lookUpKey(idempotency, now);
        if (stored instanceof Replay) return { response: stored.response as R, replayed: true };
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
