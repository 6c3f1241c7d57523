import { beforeAll, describe, expect, it } from 'vitest';
import { updateWithRetry } from '../../lib/client/retry';
import { type CallResult, useApi } from '../support/api';
import { networkTimeout, throttled, transactionInProgress, withAttemptFates } from '../support/sdk';

/**
 * Concurrency histories through the HTTP API: many clients read-modify-write the same
 * records while answers are lost, transactions stall, confirmations are throttled and others
 * take and break locks. Every acknowledged increment must be in the final state exactly once,
 * every OUTCOME_UNKNOWN must be resolved by its client to exactly once, and nothing refused
 * may have left a trace.
 */
const api = useApi();
const tokens: Record<string, string> = {};

beforeAll(async () => {
  for (const user of ['k1', 'k2', 'k3', 'k4', 'n1', 'n2', 'n3', 'n4', 'dan'])
    tokens[user] = await api.tokenFor(user, 'sales');
  tokens.carol = await api.tokenFor('carol', 'supervisor');
});

const INCREMENTS = 12;

/** A counter record, `description` holding its count. */
const counter = async () =>
  (await api.call('POST', '/annotations', { token: tokens.k1, body: { name: 'counter', description: '0' } }))
    .body.id as string;
const stored = async (id: string) => (await api.call('GET', `/annotations/${id}`, { token: tokens.k1 })).body;

/** An answer that is not a success, as the retry helper reads errors: by `code`. */
const failure = (answer: CallResult) =>
  Object.assign(new Error(answer.body?.code), { code: answer.body?.code });

interface Tally {
  acknowledged: number;
  /** Refused and never applied: a lock held by someone else. */
  refused: number;
  /** OUTCOME_UNKNOWN that reached the caller: its client could not resolve it. */
  unresolved: number;
}

const tally = (): Tally => ({ acknowledged: 0, refused: 0, unresolved: 0 });

/** Runs one increment; sorts its end into the tally. */
const count = async (into: Tally, increment: () => Promise<unknown>) => {
  try {
    await increment();
    into.acknowledged += 1;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'LOCKED') into.refused += 1;
    else if (code === 'OUTCOME_UNKNOWN') into.unresolved += 1;
    else throw error;
  }
};

describe('concurrency histories with lost answers, stalled transactions and lock traffic', () => {
  it('8 clients × 12 increments, keyed and keyless: every acknowledged increment once, every unknown resolved', async () => {
    const [keyedRecord, keylessA, keylessB] = [await counter(), await counter(), await counter()];
    const keyed = tally();
    const keyless = { [keylessA]: tally(), [keylessB]: tally() };
    let unknownAnswers = 0;
    // Transactions (the keyed writes) and single-item writes (the keyless ones, and every
    // lock operation) meet their faults in turn, the first attempt of every request counted.
    let transactions = 0;
    let updates = 0;
    const doomed = new Set<string>();
    const { fates } = await withAttemptFates(
      (command, input, earlier) => {
        const token = String(input.ClientRequestToken ?? '');
        if (command === 'TransactWriteItemsCommand') {
          // Applied, then every confirmation throttled: the server cannot tell, says so.
          if (doomed.has(token)) return { at: 'before', error: throttled };
          if (earlier > 0) return 'pass';
          transactions += 1;
          if (transactions % 9 === 0) {
            doomed.add(token);
            return { at: 'after', error: throttled };
          }
          if (transactions % 7 === 0) return { at: 'after', error: transactionInProgress };
          if (transactions % 5 === 0) return { at: 'after', error: networkTimeout };
          return 'pass';
        }
        if (command === 'UpdateItemCommand' && earlier === 0) {
          updates += 1;
          if (updates % 5 === 0) return { at: 'after', error: networkTimeout };
        }
        return 'pass';
      },
      () =>
        Promise.all([
          // Four clients with the typed client: every change keyed, OUTCOME_UNKNOWN repeated
          // as the same request until it has its answer.
          ...['k1', 'k2', 'k3', 'k4'].map(async (user) => {
            const client = api.client(tokens[user] as string, {
              resendDelayMs: 1,
              fetch: async (input, init) => {
                const response = await fetch(input, init);
                if (response.status === 503 && (await response.clone().text()).includes('OUTCOME_UNKNOWN'))
                  unknownAnswers += 1;
                return response;
              },
            });
            for (let n = 0; n < INCREMENTS; n += 1) {
              await count(keyed, () =>
                updateWithRetry(
                  {
                    read: () => client.getAnnotation(keyedRecord),
                    write: (current, intent) =>
                      client.patchAnnotation(
                        keyedRecord,
                        current.version,
                        { description: String(Number(current.description) + 1) },
                        intent,
                      ),
                    keyed: true,
                  },
                  { attempts: 500, baseMs: 1, capMs: 20 },
                ),
              );
            }
          }),
          // Four clients without a key, two to a record: each write recognised by its attempt.
          ...(['n1', 'n2', 'n3', 'n4'] as const).map(async (user, index) => {
            const id = index < 2 ? keylessA : keylessB;
            for (let n = 0; n < INCREMENTS; n += 1) {
              await count(keyless[id] as Tally, () =>
                updateWithRetry(
                  {
                    read: async () =>
                      (await api.call('GET', `/annotations/${id}`, { token: tokens[user] })).body,
                    write: async (current) => {
                      const answer = await api.call('PATCH', `/annotations/${id}`, {
                        token: tokens[user],
                        headers: { 'if-match': `"${current.version}"` },
                        body: { description: String(Number(current.description) + 1) },
                      });
                      if (answer.status !== 200) throw failure(answer);
                      return answer.body;
                    },
                  },
                  { attempts: 500, baseMs: 1, capMs: 20 },
                ),
              );
            }
          }),
          // Lock traffic: a supervisor breaks whatever lock there is, and Dan locks a keyless
          // record for a moment, so some writes meet his lock and are refused.
          (async () => {
            for (let round = 0; round < 3 * INCREMENTS; round += 1) {
              for (const id of [keyedRecord, keylessA, keylessB])
                await api.call('DELETE', `/annotations/${id}/lock`, { token: tokens.carol });
              if (round % 6 === 0) {
                const lease = await api.call('POST', `/annotations/${keylessA}/lock`, {
                  token: tokens.dan,
                  body: { ttlSeconds: 5 },
                });
                if (lease.status === 201)
                  await api.call('DELETE', `/annotations/${keylessA}/lock`, {
                    token: tokens.dan,
                    headers: { 'lock-token': lease.body.token },
                  });
              }
            }
          })(),
        ]),
    );

    // The faults all happened: lost answers, stalled transactions, throttled confirmations,
    // and answers that said the outcome was unknown.
    expect(Object.keys(fates).sort()).toEqual([
      'TransactWriteItemsCommand after ProvisionedThroughputExceededException',
      'TransactWriteItemsCommand after TimeoutError',
      'TransactWriteItemsCommand after TransactionInProgressException',
      'TransactWriteItemsCommand before ProvisionedThroughputExceededException',
      'UpdateItemCommand after TimeoutError',
    ]);
    expect(unknownAnswers).toBeGreaterThan(0);

    // Every unknown resolved by its client; every acknowledged increment in the count once,
    // and every version one of them.
    const finals = await Promise.all([keyedRecord, keylessA, keylessB].map(stored));
    const tallies = [keyed, keyless[keylessA] as Tally, keyless[keylessB] as Tally];
    expect(tallies.map((t) => t.unresolved)).toEqual([0, 0, 0]);
    expect(tallies.map((t) => t.acknowledged + t.refused)).toEqual([
      4 * INCREMENTS,
      2 * INCREMENTS,
      2 * INCREMENTS,
    ]);
    expect(finals.map((record) => [Number(record.description), record.version])).toEqual(
      tallies.map((t) => [t.acknowledged, 1 + t.acknowledged]),
    );
  });
});
