/**
 * The bodies the debtor routes accept. Only zod and pure values here: the contract
 * (and with it the health function) imports these without the database client.
 */
import * as z from 'zod/mini';
import { debtorEntity } from '../catalog';
import { countryCode, groupPatchSchema, money, optionalFields } from '../field-values';
import { nonZero } from './common';

const debtorFields = {
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  street: z.string().check(z.minLength(1), z.maxLength(200)),
  city: z.string().check(z.minLength(1), z.maxLength(100)),
  postalCode: z.string().check(z.minLength(1), z.maxLength(20)),
  country: countryCode,
  creditLimit: money.check(z.minimum(0)),
  paymentTermsDays: z.int().check(z.minimum(0), z.maximum(365)),
};

/** Every field may be given; only `name` must be. */
export const createDebtorSchema = z.strictObject({
  ...optionalFields(debtorFields),
  name: debtorFields.name,
});

export const patchDebtorSchema = groupPatchSchema(debtorFields, debtorEntity);

export const postingSchema = z.strictObject({
  amount: nonZero(money, 'A posting moves money: amount must not be 0.'),
  reference: z.string().check(z.minLength(1), z.maxLength(200)),
});
