/**
 * The bodies the order routes accept. Only zod and pure values here: the contract
 * (and with it the health function) imports these without the database client.
 */
import * as z from 'zod/mini';
import { orderEntity, orderStatuses } from '../catalog';
import { patchOf, version } from './common';

const customer = z.string().check(z.minLength(1), z.maxLength(200));
const notes = z.string().check(z.maxLength(2000));
const lineDescription = z.string().check(z.maxLength(500));
const lineFields = {
  sku: z.string().check(z.minLength(1), z.maxLength(64)),
  description: z.optional(lineDescription),
  quantity: z.int().check(z.minimum(1), z.maximum(1_000_000)),
  unitPrice: z.int().check(z.minimum(0), z.maximum(1_000_000_000)),
};
const newLineSchema = z.strictObject(lineFields);
export type LineFields = z.infer<typeof newLineSchema>;

export const createOrderSchema = z.strictObject({
  customer,
  notes: z.optional(notes),
  lines: z.optional(z.array(newLineSchema).check(z.maxLength(99))),
});

export const replaceOrderSchema = z.strictObject({
  customer,
  notes: z.optional(notes),
  lines: z
    .array(
      z.strictObject({
        lineId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
        ...lineFields,
      }),
    )
    .check(
      z.maxLength(orderEntity.maxChildren),
      z.superRefine((lines, ctx) => {
        const seen = new Set<string>();
        lines.forEach((line, index) => {
          if (line.lineId === undefined) return;
          if (seen.has(line.lineId))
            ctx.addIssue({ code: 'custom', path: [index, 'lineId'], message: 'Duplicate lineId.' });
          seen.add(line.lineId);
        });
      }),
    ),
  version: z.optional(version),
});

export const patchOrderSchema = patchOf({
  customer: z.optional(customer),
  notes: z.optional(z.nullable(notes)),
  version: z.optional(version),
});

export const addLineSchema = z.strictObject({ ...newLineSchema.shape, version: z.optional(version) });

export const patchLineSchema = patchOf({
  sku: z.optional(lineFields.sku),
  description: z.optional(z.nullable(lineDescription)),
  quantity: z.optional(lineFields.quantity),
  unitPrice: z.optional(lineFields.unitPrice),
  version: z.optional(version),
});

export const transitionSchema = z.strictObject({ to: z.enum(orderStatuses), version: z.optional(version) });
