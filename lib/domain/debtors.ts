import * as z from 'zod/mini';
import { moveCounters } from '../core/counters';
import type { GroupPatch } from '../core/field-groups';
import { patchGroups } from '../core/field-groups';
import type { Idempotency } from '../core/idempotency';
import { createRecord, getRecord, type WriteResult } from '../core/record-store';
import type { PublicRecord, WriteContext } from '../core/records';
import { debtorEntity } from './catalog';
import { countryCode, groupPatchSchema, money } from './field-values';

export { debtorEntity };

const debtorFields = {
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  street: z.string().check(z.minLength(1), z.maxLength(200)),
  city: z.string().check(z.minLength(1), z.maxLength(100)),
  postalCode: z.string().check(z.minLength(1), z.maxLength(20)),
  country: countryCode,
  creditLimit: money.check(z.minimum(0)),
  paymentTermsDays: z.int().check(z.minimum(0), z.maximum(365)),
};

export const createDebtorSchema = z.strictObject({
  name: debtorFields.name,
  street: z.optional(debtorFields.street),
  city: z.optional(debtorFields.city),
  postalCode: z.optional(debtorFields.postalCode),
  country: z.optional(debtorFields.country),
  creditLimit: z.optional(debtorFields.creditLimit),
  paymentTermsDays: z.optional(debtorFields.paymentTermsDays),
});

export const patchDebtorSchema = groupPatchSchema(debtorFields, debtorEntity);

export const postingSchema = z.strictObject({
  amount: money.check(
    z.refine((amount) => amount !== 0, { message: 'A posting moves money: amount must not be 0.' }),
  ),
  reference: z.string().check(z.minLength(1), z.maxLength(200)),
});

export const createDebtor = (
  fields: z.infer<typeof createDebtorSchema>,
  context: WriteContext,
): Promise<WriteResult> => createRecord(debtorEntity, { ...fields, balance: 0 }, context);

export const getDebtor = (id: string, now: Date): Promise<PublicRecord> => getRecord(debtorEntity, id, now);

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
