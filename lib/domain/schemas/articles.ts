/**
 * The bodies the article routes accept. Only zod and pure values here: the contract
 * (and with it the health function) imports these without the database client.
 */
import * as z from 'zod/mini';
import { articleEntity } from '../catalog';
import { groupPatchSchema, money, optionalFields } from '../field-values';
import { nonZero } from './common';

const articleFields = {
  description: z.string().check(z.minLength(1), z.maxLength(500)),
  salesPrice: money.check(z.minimum(0)),
  vatCode: z.string().check(z.minLength(1), z.maxLength(20)),
  preferredSupplier: z.string().check(z.minLength(1), z.maxLength(200)),
  maxPurchasePrice: money.check(z.minimum(0)),
  binLocation: z.string().check(z.minLength(1), z.maxLength(50)),
  reorderLevel: z.int().check(z.minimum(0), z.maximum(1_000_000_000)),
};

export const skuSchema = z.string().check(z.regex(/^[A-Z0-9-]{1,64}$/, 'A SKU: 1-64 of A-Z, 0-9 and -.'));

/** The SKU and every field may be given; the SKU and `description` must be. */
export const createArticleSchema = z.strictObject({
  id: skuSchema,
  ...optionalFields(articleFields),
  description: articleFields.description,
});

export const patchArticleSchema = groupPatchSchema(articleFields, articleEntity);

export const stockMovementSchema = z.strictObject({
  delta: nonZero(
    z.int().check(z.minimum(-1_000_000_000), z.maximum(1_000_000_000)),
    'A movement moves stock: delta must not be 0.',
  ),
  reason: z.string().check(z.minLength(1), z.maxLength(200)),
});
