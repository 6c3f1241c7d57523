import type * as z from 'zod/mini';
import type { Idempotency } from '../core/build/key-record';
import { type EntitySpec, newId } from '../core/build/keys';
import type { PublicRecord, WriteContext } from '../core/build/records';
import { type CounterMovement, moveCounters } from '../core/features/counters/counters';
import { entryPut, type LedgerEntry, listEntries, newEntry } from '../core/features/counters/ledger';
import { createRecord, listOf, type WriteResult } from '../core/features/records/store';
import { getRecord } from '../core/send/reads';
import { InsufficientFundsError, NotFoundError, ValidationError } from '../errors';
import type { createAccountSchema, movementSchema, transferSchema } from './schemas/accounts';

/** Accounts: a balance that changes only together with a ledger entry, exactly once per key. */
export const accountEntity: EntitySpec = {
  type: 'ACCOUNT',
  fields: ['name', 'currency'],
  search: { field: 'name' },
};

/**
 * An account's id starts with its currency (`EUR-…`): currency never changes, so a transfer
 * knows both currencies without reading either account first.
 */
const currencyOf = (accountId: string): string => {
  const match = /^([A-Z]{3})-[A-Za-z0-9_-]{22}$/.exec(accountId);
  if (!match?.[1]) throw new NotFoundError('No such account.');
  return match[1];
};

export const createAccount = (
  input: z.infer<typeof createAccountSchema>,
  context: WriteContext,
): Promise<WriteResult> =>
  createRecord(accountEntity, { ...input, balance: 0 }, context, { id: `${input.currency}-${newId()}` });

export const getAccount = (id: string, now: Date): Promise<PublicRecord> => {
  currencyOf(id);
  return getRecord(accountEntity, id, now);
};

export const listAccounts = listOf(accountEntity);

/**
 * A balance movement: never below zero (409 INSUFFICIENT_FUNDS), never above COUNTER_LIMIT
 * (422 at /amount, the field every movement and transfer carries it in).
 */
const balanceMovement = (accountId: string, delta: number): CounterMovement => ({
  entity: accountEntity,
  id: accountId,
  attribute: 'balance',
  label: 'balance',
  delta,
  pointer: '/amount',
  notEnough: (current) => new InsufficientFundsError(current),
});

/**
 * A deposit (+) or withdrawal (−): the balance ADD (a withdrawal conditioned on the balance
 * covering it, a deposit on staying within COUNTER_LIMIT), its ledger entry and the key's
 * record in one transaction, then one consistent read for the balance.
 */
export const moveMoney = async (
  accountId: string,
  kind: 'deposit' | 'withdrawal',
  movement: z.infer<typeof movementSchema>,
  idempotency: Idempotency,
  context: WriteContext,
): Promise<{ entry: LedgerEntry; balance: number; replayed: boolean }> => {
  currencyOf(accountId);
  const delta = kind === 'deposit' ? movement.amount : -movement.amount;
  const entry = newEntry(accountId, { kind, amount: delta, ...pickReference(movement) }, context);
  const { body, replayed } = await moveCounters(
    [balanceMovement(accountId, delta)],
    [entryPut(accountEntity, entry)],
    { entry },
    idempotency,
    context,
    (response, balances) => ({ entry: response.entry, balance: balances[accountId] }),
  );
  return { entry: body.entry as LedgerEntry, balance: Number(body.balance), replayed };
};

const pickReference = (input: { reference?: string | undefined }) =>
  input.reference === undefined ? {} : { reference: input.reference };

/**
 * A transfer: the debit (conditioned on the balance), the credit (conditioned on the limit)
 * and both entries with the key's record, all in one transaction; then both balances, read
 * consistently at once.
 */
export const transfer = async (
  input: z.infer<typeof transferSchema>,
  idempotency: Idempotency,
  context: WriteContext,
): Promise<{
  body: { transferId: string; entries: LedgerEntry[]; balances: Record<string, number> };
  replayed: boolean;
}> => {
  if (input.from === input.to) {
    throw new ValidationError([{ pointer: '/to', detail: 'A transfer needs two different accounts.' }]);
  }
  if (currencyOf(input.from) !== currencyOf(input.to)) {
    throw new ValidationError([{ pointer: '/to', detail: 'Both accounts must hold the same currency.' }]);
  }
  const transferId = newId();
  const details = { transferId, ...pickReference(input) };
  const debit = newEntry(
    input.from,
    { kind: 'transfer-out', amount: -input.amount, counterparty: input.to, ...details },
    context,
  );
  const credit = newEntry(
    input.to,
    { kind: 'transfer-in', amount: input.amount, counterparty: input.from, ...details },
    context,
  );
  const { body, replayed } = await moveCounters(
    [balanceMovement(input.from, -input.amount), balanceMovement(input.to, input.amount)],
    [entryPut(accountEntity, debit), entryPut(accountEntity, credit)],
    { transferId, entries: [debit, credit] },
    idempotency,
    context,
    (response, balances) => ({ ...response, balances }),
  );
  return {
    body: body as { transferId: string; entries: LedgerEntry[]; balances: Record<string, number> },
    replayed,
  };
};

/**
 * One page of an account's entries, newest first: one Query. Only an empty first page reads
 * the account (404 or 410 if there is none), since a listing cannot tell an account without
 * entries from no account at all.
 */
export const accountEntries = async (
  accountId: string,
  options: { limit: number; cursor?: string | undefined },
): Promise<{ items: LedgerEntry[]; nextCursor?: string }> => {
  currencyOf(accountId);
  const page = await listEntries(accountEntity, accountId, options);
  if (page.items.length === 0 && options.cursor === undefined) await getRecord(accountEntity, accountId);
  return page;
};
