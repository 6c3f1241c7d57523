import type { z } from 'zod';
import { createAccountSchema, movementSchema, transferSchema } from '../domain/schemas/accounts';
import {
  annotationFieldsSchema,
  batchSchema,
  patchAnnotationSchema,
  replaceAnnotationSchema,
} from '../domain/schemas/annotations';
import { createArticleSchema, patchArticleSchema, stockMovementSchema } from '../domain/schemas/articles';
import { createDebtorSchema, patchDebtorSchema, postingSchema } from '../domain/schemas/debtors';
import {
  addLineSchema,
  createOrderSchema,
  patchLineSchema,
  patchOrderSchema,
  replaceOrderSchema,
  transitionSchema,
} from '../domain/schemas/orders';
import { deleteBodySchema, lockBodySchema } from '../http/validation';
import type { ErrorCode } from '../problems';
import * as answers from './responses';

/** The headers an operation takes or answers beyond the common ones. */
export type HeaderUse =
  | 'if-match'
  | 'if-none-match'
  | 'idempotency-key'
  | 'idempotency-key-required'
  | 'lock-token'
  | 'lock-token-required';

/** What the document says of one route: its bodies, its success and the codes it may answer. */
export interface Operation {
  summary: string;
  body?: z.ZodType;
  /** The listing query `?limit&cursor`. */
  paged?: boolean;
  /** A resource's list: `?q=` keeps the items whose named field holds it. */
  search?: string;
  success: {
    status: number;
    body?: z.ZodType;
    etag?: boolean;
    location?: boolean;
    /** A change answering the record it leaves: `Applied-Version` where that is the record as others left it since. */
    appliedVersion?: boolean;
  };
  headers?: readonly HeaderUse[];
  errors: readonly ErrorCode[];
}

const auth: ErrorCode[] = ['UNAUTHENTICATED', 'NOT_FOUND', 'THROTTLED', 'INTERNAL'];
const roles: ErrorCode[] = ['FORBIDDEN'];
const body: ErrorCode[] = [
  'MALFORMED_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'VALIDATION_FAILED',
];
// Every write may find that it cannot know whether it was applied: OUTCOME_UNKNOWN.
// A keyed request may meet its own repeat still running: IDEMPOTENCY_IN_PROGRESS.
const keyed: ErrorCode[] = [
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_IN_PROGRESS',
  'WRITE_CONTENTION',
  'MALFORMED_REQUEST',
  'OUTCOME_UNKNOWN',
];
// A Lock-Token that is no longer current: 423 while another user holds the lock, else LOCK_LOST.
const versioned: ErrorCode[] = [
  'STALE_DATA',
  'PRECONDITION_REQUIRED',
  'GONE',
  'LOCKED',
  'LOCK_LOST',
  'MALFORMED_REQUEST',
];
const read: ErrorCode[] = [...auth, 'GONE', 'MALFORMED_REQUEST'];
const change = (...more: ErrorCode[]): ErrorCode[] => [
  ...new Set([...auth, ...body, ...keyed, ...versioned, ...more]),
];
const create = (...more: ErrorCode[]): ErrorCode[] => [...new Set([...auth, ...body, ...keyed, ...more])];
const money = (...more: ErrorCode[]): ErrorCode[] => [
  ...new Set([
    ...auth,
    ...roles,
    ...body,
    ...keyed,
    'IDEMPOTENCY_KEY_REQUIRED' as const,
    'GONE' as const,
    ...more,
  ]),
];
/**
 * The request schemas are zod/mini (a fraction of the classic API in each Lambda bundle);
 * the document and the typed client read them through the classic type, as both share
 * zod's core, which parses and converts them alike.
 */
const asSchema = <S extends z.core.$ZodType>(schema: S) =>
  schema as unknown as z.ZodType<z.output<S>, z.input<S>>;

const record = <S extends z.ZodType>(schema: S, status = 200) => ({ status, body: schema, etag: true });
/** A change answered with the record it leaves. */
const changed = <S extends z.ZodType>(schema: S) => ({ ...record(schema), appliedVersion: true });
const writeHeaders: HeaderUse[] = ['if-match', 'idempotency-key', 'lock-token'];

const lockOperations = <R extends string>(resource: R) => {
  const acquire = {
    summary: 'Acquire the lock (a lease)',
    body: asSchema(lockBodySchema),
    success: { status: 201, body: answers.lease },
    headers: ['idempotency-key'],
    errors: create('LOCKED', 'LOCK_LOST', 'GONE', 'WRITE_CONTENTION'),
  } satisfies Operation;
  const renew = {
    summary: 'Renew the lock',
    body: asSchema(lockBodySchema),
    success: { status: 200, body: answers.lease },
    headers: ['idempotency-key', 'lock-token-required'],
    errors: create('LOCK_LOST', 'GONE'),
  } satisfies Operation;
  const release = {
    summary: 'Release the lock (a supervisor: without its token)',
    success: { status: 204 },
    headers: ['idempotency-key', 'lock-token'],
    errors: [...create('LOCK_LOST', 'GONE'), ...roles],
  } satisfies Operation;
  return {
    [`POST /${resource}/{id}/lock`]: acquire,
    [`PUT /${resource}/{id}/lock`]: renew,
    [`DELETE /${resource}/{id}/lock`]: release,
  } as Record<`POST /${R}/{id}/lock`, typeof acquire> &
    Record<`PUT /${R}/{id}/lock`, typeof renew> &
    Record<`DELETE /${R}/{id}/lock`, typeof release>;
};

/** Every route's operation, by route key; a route missing here fails a test. */
export const operations = {
  'GET /health': {
    summary: 'Health check',
    success: { status: 200, body: answers.health },
    errors: ['INTERNAL'],
  },
  'GET /openapi.json': {
    summary: 'This document',
    success: { status: 200, body: answers.openApi },
    errors: ['INTERNAL'],
  },

  'POST /annotations': {
    summary: 'Create an annotation',
    body: asSchema(annotationFieldsSchema),
    success: { ...record(answers.annotationRecord, 201), location: true },
    headers: ['idempotency-key'],
    errors: create(),
  },
  'GET /annotations': {
    summary: 'List annotations, newest first',
    paged: true,
    search: 'name',
    success: { status: 200, body: answers.page(answers.annotationRecord) },
    errors: read,
  },
  'POST /annotations/batch': {
    summary: 'Update many annotations, each on its own or all at once',
    body: asSchema(batchSchema),
    success: { status: 200, body: answers.batchAnswer },
    headers: ['idempotency-key'],
    errors: create('STALE_DATA', 'GONE', 'LOCKED', 'TOO_MANY_CHANGES', 'IDEMPOTENCY_IN_PROGRESS'),
  },
  'GET /annotations/{id}': {
    summary: 'Read an annotation',
    success: record(answers.annotationRecord),
    headers: ['if-none-match'],
    errors: read,
  },
  'PUT /annotations/{id}': {
    summary: 'Replace an annotation',
    body: asSchema(replaceAnnotationSchema),
    success: changed(answers.annotationRecord),
    headers: writeHeaders,
    errors: change(),
  },
  'PATCH /annotations/{id}': {
    summary: 'Change an annotation (JSON Merge Patch)',
    body: asSchema(patchAnnotationSchema),
    success: changed(answers.annotationRecord),
    headers: writeHeaders,
    errors: change(),
  },
  'DELETE /annotations/{id}': {
    summary: 'Delete an annotation',
    body: asSchema(deleteBodySchema),
    success: { status: 204 },
    headers: writeHeaders,
    errors: change(),
  },
  ...lockOperations('annotations'),

  'POST /orders': {
    summary: 'Create a draft order',
    body: asSchema(createOrderSchema),
    success: { ...record(answers.order, 201), location: true },
    headers: ['idempotency-key'],
    errors: [...create('TOO_MANY_CHANGES'), ...roles],
  },
  'GET /orders': {
    summary: 'List order headers, newest first',
    paged: true,
    search: 'customer',
    success: { status: 200, body: answers.page(answers.orderHeader) },
    errors: read,
  },
  'GET /orders/{id}': {
    summary: 'Read an order with its lines',
    success: record(answers.order),
    headers: ['if-none-match'],
    errors: read,
  },
  'PUT /orders/{id}': {
    summary: 'Replace an order and its lines',
    body: asSchema(replaceOrderSchema),
    success: record(answers.order),
    headers: writeHeaders,
    errors: [...change('INVALID_STATE', 'TOO_MANY_CHANGES'), ...roles],
  },
  'PATCH /orders/{id}': {
    summary: "Change an order's header",
    body: asSchema(patchOrderSchema),
    success: changed(answers.orderHeader),
    headers: writeHeaders,
    errors: [...change('INVALID_STATE'), ...roles],
  },
  'POST /orders/{id}/lines': {
    summary: 'Add a line',
    body: asSchema(addLineSchema),
    success: { status: 201, body: answers.lineAnswer, etag: true },
    headers: writeHeaders,
    errors: [...change('INVALID_STATE', 'ALREADY_EXISTS'), ...roles],
  },
  'PATCH /orders/{id}/lines/{lineId}': {
    summary: 'Change a line',
    body: asSchema(patchLineSchema),
    success: { status: 200, body: answers.lineAnswer, etag: true },
    headers: writeHeaders,
    errors: [...change('INVALID_STATE'), ...roles],
  },
  'DELETE /orders/{id}/lines/{lineId}': {
    summary: 'Remove a line',
    body: asSchema(deleteBodySchema),
    success: { status: 200, body: answers.lineAnswer, etag: true },
    headers: writeHeaders,
    errors: [...change('INVALID_STATE'), ...roles],
  },
  'POST /orders/{id}/transitions': {
    summary: 'Move an order to another state',
    body: asSchema(transitionSchema),
    success: changed(answers.orderHeader),
    headers: writeHeaders,
    errors: [...change('INVALID_STATE'), ...roles],
  },
  ...lockOperations('orders'),

  'POST /debtors': {
    summary: 'Create a debtor',
    body: asSchema(createDebtorSchema),
    success: { ...record(answers.debtor, 201), location: true },
    headers: ['idempotency-key'],
    errors: [...create(), ...roles],
  },
  'GET /debtors': {
    summary: 'List debtors, newest first',
    paged: true,
    search: 'name',
    success: { status: 200, body: answers.page(answers.debtor) },
    errors: read,
  },
  'GET /debtors/{id}': {
    summary: 'Read a debtor',
    success: record(answers.debtor),
    headers: ['if-none-match'],
    errors: read,
  },
  'PATCH /debtors/{id}': {
    summary: "Change a debtor's field groups",
    body: asSchema(patchDebtorSchema),
    success: { status: 200, body: answers.groupPatchAnswer(answers.debtor), etag: true },
    headers: ['idempotency-key'],
    errors: [...create('PARTIAL_CONFLICT', 'GONE', 'IDEMPOTENCY_IN_PROGRESS'), ...roles],
  },
  'POST /debtors/{id}/postings': {
    summary: "Post an amount to a debtor's balance",
    body: asSchema(postingSchema),
    success: { status: 201, body: answers.postingAnswer },
    headers: ['idempotency-key-required'],
    errors: money(),
  },

  'POST /articles': {
    summary: 'Create an article (its SKU is its id)',
    body: asSchema(createArticleSchema),
    success: { ...record(answers.article, 201), location: true },
    headers: ['idempotency-key'],
    errors: [...create('ALREADY_EXISTS'), ...roles],
  },
  'GET /articles': {
    summary: 'List articles, newest first',
    paged: true,
    search: 'SKU or description',
    success: { status: 200, body: answers.page(answers.article) },
    errors: read,
  },
  'GET /articles/{id}': {
    summary: 'Read an article',
    success: record(answers.article),
    headers: ['if-none-match'],
    errors: read,
  },
  'PATCH /articles/{id}': {
    summary: "Change an article's field groups",
    body: asSchema(patchArticleSchema),
    success: { status: 200, body: answers.groupPatchAnswer(answers.article), etag: true },
    headers: ['idempotency-key'],
    errors: [...create('PARTIAL_CONFLICT', 'GONE', 'IDEMPOTENCY_IN_PROGRESS'), ...roles],
  },
  'POST /articles/{id}/stock-movements': {
    summary: 'Move stock in or out',
    body: asSchema(stockMovementSchema),
    success: { status: 201, body: answers.stockAnswer },
    headers: ['idempotency-key-required'],
    errors: money('INSUFFICIENT_STOCK'),
  },

  'POST /accounts': {
    summary: 'Open an account',
    body: asSchema(createAccountSchema),
    success: { ...record(answers.account, 201), location: true },
    headers: ['idempotency-key'],
    errors: [...create(), ...roles],
  },
  'GET /accounts': {
    summary: 'List accounts, newest first',
    paged: true,
    search: 'name',
    success: { status: 200, body: answers.page(answers.account) },
    errors: [...read, ...roles],
  },
  'GET /accounts/{id}': {
    summary: 'Read an account',
    success: record(answers.account),
    headers: ['if-none-match'],
    errors: [...read, ...roles],
  },
  'POST /accounts/{id}/deposits': {
    summary: 'Deposit',
    body: asSchema(movementSchema),
    success: { status: 201, body: answers.movementAnswer },
    headers: ['idempotency-key-required'],
    errors: money(),
  },
  'POST /accounts/{id}/withdrawals': {
    summary: 'Withdraw',
    body: asSchema(movementSchema),
    success: { status: 201, body: answers.movementAnswer },
    headers: ['idempotency-key-required'],
    errors: money('INSUFFICIENT_FUNDS'),
  },
  'GET /accounts/{id}/entries': {
    summary: "List an account's entries, newest first",
    paged: true,
    success: { status: 200, body: answers.page(answers.ledgerEntry) },
    errors: [...read, ...roles],
  },
  'POST /transfers': {
    summary: 'Transfer between two accounts of one currency',
    body: asSchema(transferSchema),
    success: { status: 201, body: answers.transferAnswer },
    headers: ['idempotency-key-required'],
    errors: money('INSUFFICIENT_FUNDS'),
  },
} satisfies Record<string, Operation>;

/** A route key of the document, e.g. `PATCH /annotations/{id}`. */
export type RouteKey = keyof typeof operations;
