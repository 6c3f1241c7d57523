/**
 * The bodies the account routes accept. Only zod and pure values here: the contract
 * (and with it the health function) imports these without the database client.
 */
import * as z from 'zod/mini';
import { currencyCode } from '../field-values';

/** The largest single movement, in minor units. */
export const MAX_AMOUNT = 1_000_000_000_000;

const amount = z.int().check(z.minimum(1), z.maximum(MAX_AMOUNT));
const reference = z.string().check(z.minLength(1), z.maxLength(200));

export const createAccountSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  currency: currencyCode,
});
export const movementSchema = z.strictObject({ amount, reference: z.optional(reference) });
export const transferSchema = z.strictObject({
  from: z.string().check(z.minLength(1), z.maxLength(64)),
  to: z.string().check(z.minLength(1), z.maxLength(64)),
  amount,
  reference: z.optional(reference),
});
