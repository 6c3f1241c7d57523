import type * as z from 'zod/mini';
import type { Idempotency } from '../core/build/key-record';
import type { PublicRecord, WriteContext } from '../core/build/records';
import { moveCounters } from '../core/features/counters/counters';
import type { GroupPatch } from '../core/features/field-groups/groups';
import { patchGroups } from '../core/features/field-groups/patch';
import { createRecord, listOf, type WriteResult } from '../core/features/records/store';
import { getRecord } from '../core/send/reads';
import { InsufficientStockError } from '../errors';
import { articleEntity } from './catalog';
import type { createArticleSchema, stockMovementSchema } from './schemas/articles';

export { articleEntity };

export const createArticle = (
  input: z.infer<typeof createArticleSchema>,
  context: WriteContext,
): Promise<WriteResult> => {
  const { id, ...fields } = input;
  return createRecord(articleEntity, { ...fields, inStock: 0 }, context, { id });
};

export const getArticle = (id: string, now: Date): Promise<PublicRecord> => getRecord(articleEntity, id, now);

/** Articles newest first; `q` looks in the SKU and the description. */
export const listArticles = listOf(articleEntity);

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
