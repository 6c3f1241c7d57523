import * as z from 'zod/mini';
import { moveCounters } from '../core/counters';
import { type GroupPatch, patchGroups } from '../core/field-groups';
import type { Idempotency } from '../core/idempotency';
import { createRecord, getRecord, type WriteResult } from '../core/record-store';
import type { PublicRecord, WriteContext } from '../core/records';
import { InsufficientStockError } from '../errors';
import { articleEntity } from './catalog';
import { groupPatchSchema, money } from './field-values';

export { articleEntity };

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

export const createArticleSchema = z.strictObject({
  id: skuSchema,
  description: articleFields.description,
  salesPrice: z.optional(articleFields.salesPrice),
  vatCode: z.optional(articleFields.vatCode),
  preferredSupplier: z.optional(articleFields.preferredSupplier),
  maxPurchasePrice: z.optional(articleFields.maxPurchasePrice),
  binLocation: z.optional(articleFields.binLocation),
  reorderLevel: z.optional(articleFields.reorderLevel),
});

export const patchArticleSchema = groupPatchSchema(articleFields, articleEntity);

export const stockMovementSchema = z.strictObject({
  delta: z.int().check(
    z.minimum(-1_000_000_000),
    z.maximum(1_000_000_000),
    z.refine((delta) => delta !== 0, { message: 'A movement moves stock: delta must not be 0.' }),
  ),
  reason: z.string().check(z.minLength(1), z.maxLength(200)),
});

export const createArticle = (
  input: z.infer<typeof createArticleSchema>,
  context: WriteContext,
): Promise<WriteResult> => {
  const { id, ...fields } = input;
  return createRecord(articleEntity, { ...fields, inStock: 0 }, context, { id });
};

export const getArticle = (id: string, now: Date): Promise<PublicRecord> => getRecord(articleEntity, id, now);

export const patchArticle = (
  id: string,
  patch: GroupPatch,
  roles: readonly string[],
  context: WriteContext,
) => patchGroups(articleEntity, id, patch, roles, context);

/**
 * A stock movement: an atomic ADD conditioned on the stock covering it (and on staying
 * within COUNTER_LIMIT: past it, 422 at /delta), with the key's record in the same
 * transaction, then one consistent read for the stock.
 */
export const moveStock = async (
  id: string,
  movement: z.infer<typeof stockMovementSchema>,
  idempotency: Idempotency,
  context: WriteContext,
): Promise<{ inStock: number; replayed: boolean }> => {
  const { body, replayed } = await moveCounters(
    [
      {
        entity: articleEntity,
        id,
        attribute: 'inStock',
        label: 'stock',
        delta: movement.delta,
        pointer: '/delta',
        notEnough: (current) => new InsufficientStockError(current),
      },
    ],
    [],
    { articleId: id, ...movement },
    idempotency,
    context,
    (_response, values) => ({ inStock: values[id] }),
  );
  return { inStock: Number(body.inStock), replayed };
};
