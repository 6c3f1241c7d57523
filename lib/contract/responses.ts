import * as z from 'zod';
import { orderStatuses } from '../domain/catalog';
import type { ErrorCode } from '../problems';

/**
 * The shapes of every answer body, as zod schemas: what the OpenAPI document declares and
 * what the contract tests hold every answer to. Request bodies are the domain's own schemas.
 */
const timestamp = z.iso.datetime();
const audit = {
  version: z.int().min(1),
  createdAt: timestamp,
  createdBy: z.string(),
  updatedAt: timestamp,
  updatedBy: z.string(),
};
const heldLock = z.strictObject({ owner: z.string(), expiresAt: timestamp }).optional();

export const annotationRecord = z.strictObject({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  ...audit,
  lock: heldLock,
});

export const orderLine = z.strictObject({
  lineId: z.string(),
  sku: z.string(),
  description: z.string().optional(),
  quantity: z.int(),
  unitPrice: z.int(),
});

const orderFields = {
  id: z.string(),
  customer: z.string(),
  notes: z.string().optional(),
  status: z.enum(orderStatuses),
};

/** Sum of quantity × unitPrice over the lines, in minor units. */
const total = z.number().min(0);
const exactly = 'Exact: past 2^53 written as its digits, to be parsed as a big integer.';

export const order = z.strictObject({
  ...orderFields,
  lines: z.array(orderLine),
  total: total.meta({ description: `The sum of quantity × unitPrice over the lines. ${exactly}` }),
  ...audit,
  lock: heldLock,
});

export const orderHeader = z.strictObject({
  ...orderFields,
  lineCount: z.int().min(0),
  total: total.optional().meta({
    description: `The sum of quantity × unitPrice over the lines, as in the order. ${exactly} Absent only on an order stored before this field existed, until its lines next change.`,
  }),
  ...audit,
  lock: heldLock,
});

export const lineAnswer = z.strictObject({
  orderId: z.string(),
  version: z.int().min(1),
  line: orderLine.optional(),
});

export const debtor = z.strictObject({
  id: z.string(),
  name: z.string(),
  street: z.string().optional(),
  city: z.string().optional(),
  postalCode: z.string().optional(),
  country: z.string().optional(),
  creditLimit: z.int().optional(),
  paymentTermsDays: z.int().optional(),
  balance: z.int(),
  ...audit,
});

export const article = z.strictObject({
  id: z.string(),
  description: z.string(),
  salesPrice: z.int().optional(),
  vatCode: z.string().optional(),
  preferredSupplier: z.string().optional(),
  maxPurchasePrice: z.int().optional(),
  binLocation: z.string().optional(),
  reorderLevel: z.int().optional(),
  inStock: z.int(),
  ...audit,
});

export const groupPatchAnswer = <R extends z.ZodType>(record: R) =>
  z.strictObject({ record, groups: z.record(z.string(), z.enum(['applied', 'unchanged'])) });

export const account = z.strictObject({
  id: z.string(),
  name: z.string(),
  currency: z.string(),
  balance: z.int(),
  ...audit,
});

export const ledgerEntry = z.strictObject({
  entryId: z.string(),
  accountId: z.string(),
  amount: z.int(),
  kind: z.enum(['deposit', 'withdrawal', 'transfer-out', 'transfer-in']),
  reference: z.string().optional(),
  counterparty: z.string().optional(),
  transferId: z.string().optional(),
  createdAt: timestamp,
  createdBy: z.string(),
});

export const movementAnswer = z.strictObject({ entry: ledgerEntry, balance: z.int() });
export const transferAnswer = z.strictObject({
  transferId: z.string(),
  entries: z.array(ledgerEntry),
  balances: z.record(z.string(), z.int()),
});
export const postingAnswer = z.strictObject({ balance: z.int() });
export const stockAnswer = z.strictObject({ inStock: z.int() });

export const page = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), nextCursor: z.string().optional() });

export const lease = z.strictObject({
  token: z.string(),
  owner: z.string(),
  acquiredAt: timestamp,
  expiresAt: timestamp,
  fence: z.int().min(1),
});

export const batchAnswer = z.strictObject({
  results: z.array(
    z.union([
      z.strictObject({ id: z.string(), status: z.literal(200), version: z.int().min(1) }),
      z.strictObject({
        id: z.string(),
        status: z.int().min(400),
        code: z.string(),
        current: annotationRecord.optional(),
        changeAlreadyPresent: z.literal(true).optional(),
      }),
    ]),
  ),
});

export const health = z.strictObject({ status: z.literal('ok') });

/** An OpenAPI document (this one). */
export const openApi = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({}),
  paths: z.looseObject({}),
});

/** problem+json (RFC 9457), with the extension members this API adds. */
export const problem = (codes: readonly ErrorCode[]) =>
  z.looseObject({
    type: z.url(),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
    requestId: z.string(),
    current: z.record(z.string(), z.unknown()).optional(),
    changeAlreadyPresent: z.literal(true).optional(),
    errors: z.array(z.strictObject({ pointer: z.string(), detail: z.string() })).optional(),
    results: z.array(z.record(z.string(), z.unknown())).optional(),
    groups: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    record: z.record(z.string(), z.unknown()).optional(),
    lock: z.strictObject({ owner: z.string(), expiresAt: timestamp }).optional(),
    deletedAt: timestamp.optional(),
    deletedBy: z.string().optional(),
    state: z.string().optional(),
  });
