import {
  addLineSchema,
  createOrderSchema,
  patchLineSchema,
  patchOrderSchema,
  replaceOrderSchema,
  transitionSchema,
} from '../../domain/schemas/orders';
import { deleteBodySchema } from '../../http/validation';
import * as answers from '../responses';
import {
  asSchema,
  change,
  changed,
  create,
  existing,
  keyRules,
  type Operation,
  pageRules,
  preconditionRules,
  type Rule,
  read,
  record,
  roles,
  writeHeaders,
} from './kinds';
import { lockOperations } from './locks';

const notDraft: Rule = {
  status: 409,
  code: 'INVALID_STATE',
  when: 'the order is no longer a draft (approved, shipped, cancelled): `state`',
};
const lineChange: Rule[] = [...preconditionRules, notDraft, ...keyRules];

/** Orders: a header and its lines, one version; transitions by role; leases. */
export const orderOperations = {
  'POST /orders': {
    summary: 'Create a draft order',
    body: asSchema(createOrderSchema),
    success: { ...record(answers.order, 201), location: true },
    headers: ['idempotency-key'],
    errors: [...create('TOO_MANY_CHANGES'), ...roles],
    rules: keyRules,
  },
  'GET /orders': {
    summary: 'List order headers, newest first',
    paged: true,
    search: 'customer',
    success: { status: 200, body: answers.page(answers.orderHeader) },
    errors: read,
    rules: pageRules,
  },
  'GET /orders/{id}': {
    summary: 'Read an order with its lines',
    success: record(answers.order),
    headers: ['if-none-match'],
    errors: [...read, 'WRITE_CONTENTION'],
    rules: [
      ...existing,
      {
        status: 409,
        code: 'WRITE_CONTENTION',
        when: 'each of 5 reads of the order in a row saw another write to it half applied; `Retry-After`',
      },
    ],
  },
  'PUT /orders/{id}': {
    summary: 'Replace an order and its lines',
    body: asSchema(replaceOrderSchema),
    success: record(answers.order),
    headers: writeHeaders,
    errors: [...change('INVALID_STATE', 'TOO_MANY_CHANGES'), ...roles],
    rules: [
      {
        status: 422,
        code: 'VALIDATION_FAILED',
        pointer: '/lines/*/lineId',
        when: 'a `lineId` is named twice, or names no line of this order',
      },
      {
        status: 422,
        code: 'TOO_MANY_CHANGES',
        when: 'the header and the lines that change, are added or removed come to more than 100 writes',
      },
      ...lineChange,
    ],
  },
  'PATCH /orders/{id}': {
    summary: "Change an order's header",
    body: asSchema(patchOrderSchema),
    success: changed(answers.orderHeader),
    headers: writeHeaders,
    errors: [...change('INVALID_STATE'), ...roles],
    rules: lineChange,
  },
  'POST /orders/{id}/lines': {
    summary: 'Add a line',
    body: asSchema(addLineSchema),
    success: { status: 201, body: answers.lineAnswer, etag: true },
    headers: writeHeaders,
    errors: [...change('INVALID_STATE', 'ALREADY_EXISTS'), ...roles],
    rules: [
      { status: 409, code: 'INVALID_STATE', when: 'the order holds 500 lines already: `lineCount`' },
      ...lineChange,
    ],
  },
  'PATCH /orders/{id}/lines/{lineId}': {
    summary: 'Change a line',
    body: asSchema(patchLineSchema),
    success: { status: 200, body: answers.lineAnswer, etag: true },
    headers: writeHeaders,
    errors: [...change('INVALID_STATE'), ...roles],
    rules: lineChange,
  },
  'DELETE /orders/{id}/lines/{lineId}': {
    summary: 'Remove a line',
    body: asSchema(deleteBodySchema),
    success: { status: 200, body: answers.lineAnswer, etag: true },
    headers: writeHeaders,
    errors: [...change('INVALID_STATE'), ...roles],
    rules: lineChange,
  },
  'POST /orders/{id}/transitions': {
    summary: 'Move an order to another state',
    body: asSchema(transitionSchema),
    success: changed(answers.orderHeader),
    headers: writeHeaders,
    errors: [...change('INVALID_STATE'), ...roles],
    rules: [
      {
        status: 409,
        code: 'INVALID_STATE',
        when: 'a move the state machine has not: only draft→approved, approved→shipped, draft|approved→cancelled',
      },
      {
        status: 403,
        code: 'FORBIDDEN',
        when: 'the move is not the caller’s: approved by a supervisor, shipped by warehouse, cancelled by sales or a supervisor',
      },
      ...preconditionRules,
      ...keyRules,
    ],
  },
  ...lockOperations('orders'),
} satisfies Record<string, Operation>;
