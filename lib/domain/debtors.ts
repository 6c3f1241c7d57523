import type * as z from 'zod/mini';
import type { Idempotency } from '../core/build/key-record';
import type { PublicRecord, WriteContext } from '../core/build/records';
import { moveCounters } from '../core/features/counters/counters';
import type { GroupPatch } from '../core/features/field-groups/groups';
import { patchGroups } from '../core/features/field-groups/patch';
import { createRecord, listOf, type WriteResult } from '../core/features/records/store';
import { getRecord } from '../core/send/reads';
import { debtorEntity } from './catalog';
import type { createDebtorSchema, postingSchema } from './schemas/debtors';

export { debtorEntity };

export const createDebtor = (
  fields: z.infer<typeof createDebtorSchema>,
  context: WriteContext,
): Promise<WriteResult> => createRecord(debtorEntity, { ...fields, balance: 0 }, context);

export const getDebtor = (id: string, now: Date): Promise<PublicRecord> => getRecord(debtorEntity, id, now);

export const listDebtors = listOf(debtorEntity);

export const patchDebtor = (id: string, patch: GroupPatch, roles: readonly string[], context: WriteContext) =>
  patchGroups(debtorEntity, id, patch, roles, context);

/**
 * A posting: an atomic ADD to the balance and the key's record in one transaction, then
 * one consistent read for the balance. It takes no precondition, so it never conflicts
 * with group edits, and it never reads before it writes. The balance may go negative but
 * stays within ±COUNTER_LIMIT: a posting that would pass it is 422 at /amount.
 */
export const postToDebtor = async (
  id: string,
  posting: z.infer<typeof postingSchema>,
  idempotency: Idempotency,
  context: WriteContext,
): Promise<{ balance: number; replayed: boolean }> => {
  const { body, replayed } = await moveCounters(
    [
      {
        entity: debtorEntity,
        id,
        attribute: 'balance',
        label: 'balance',
        delta: posting.amount,
        pointer: '/amount',
      },
    ],
    [],
    { debtorId: id, ...posting },
    idempotency,
    context,
    (_response, values) => ({ balance: values[id] }),
  );
  return { balance: Number(body.balance), replayed };
};
