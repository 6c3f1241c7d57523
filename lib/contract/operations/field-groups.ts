import { createArticleSchema, patchArticleSchema, stockMovementSchema } from '../../domain/schemas/articles';
import { createDebtorSchema, patchDebtorSchema, postingSchema } from '../../domain/schemas/debtors';
import * as answers from '../responses';
import {
  asSchema,
  counterRule,
  create,
  existing,
  keyRules,
  money,
  type Operation,
  pageRules,
  type Rule,
  read,
  record,
  roleRule,
  roles,
} from './kinds';

const groupPatch: Rule[] = [
  ...existing,
  roleRule('`set` touches a group the caller does not own; nothing is written'),
  {
    status: 409,
    code: 'PARTIAL_CONFLICT',
    when: 'a touched group was changed since `base` (or its write failed): `groups` says each one’s outcome, `record` the record; the other groups are applied',
  },
  ...keyRules,
];

/** Debtors and articles: field groups owned by departments; counters moved only atomically. */
export const fieldGroupOperations = {
  'POST /debtors': {
    summary: 'Create a debtor',
    body: asSchema(createDebtorSchema),
    success: { ...record(answers.debtor, 201), location: true },
    headers: ['idempotency-key'],
    errors: [...create(), ...roles],
    rules: keyRules,
  },
  'GET /debtors': {
    summary: 'List debtors, newest first',
    paged: true,
    search: 'name',
    success: { status: 200, body: answers.page(answers.debtor) },
    errors: read,
    rules: pageRules,
  },
  'GET /debtors/{id}': {
    summary: 'Read a debtor',
    success: record(answers.debtor),
    headers: ['if-none-match'],
    errors: read,
    rules: existing,
  },
  'PATCH /debtors/{id}': {
    summary: "Change a debtor's field groups",
    body: asSchema(patchDebtorSchema),
    success: { status: 200, body: answers.groupPatchAnswer(answers.debtor), etag: true },
    headers: ['idempotency-key'],
    errors: [...create('PARTIAL_CONFLICT', 'GONE', 'IDEMPOTENCY_IN_PROGRESS'), ...roles],
    rules: groupPatch,
  },
  'POST /debtors/{id}/postings': {
    summary: "Post an amount to a debtor's balance",
    body: asSchema(postingSchema),
    success: { status: 201, body: answers.postingAnswer },
    headers: ['idempotency-key-required'],
    errors: money(),
    rules: [...existing, counterRule('/amount'), ...keyRules],
  },

  'POST /articles': {
    summary: 'Create an article (its SKU is its id)',
    body: asSchema(createArticleSchema),
    success: { ...record(answers.article, 201), location: true },
    headers: ['idempotency-key'],
    errors: [...create('ALREADY_EXISTS'), ...roles],
    rules: [{ status: 409, code: 'ALREADY_EXISTS', when: 'an article has this SKU already' }, ...keyRules],
  },
  'GET /articles': {
    summary: 'List articles, newest first',
    paged: true,
    search: 'SKU or description',
    success: { status: 200, body: answers.page(answers.article) },
    errors: read,
    rules: pageRules,
  },
  'GET /articles/{id}': {
    summary: 'Read an article',
    success: record(answers.article),
    headers: ['if-none-match'],
    errors: read,
    rules: existing,
  },
  'PATCH /articles/{id}': {
    summary: "Change an article's field groups",
    body: asSchema(patchArticleSchema),
    success: { status: 200, body: answers.groupPatchAnswer(answers.article), etag: true },
    headers: ['idempotency-key'],
    errors: [...create('PARTIAL_CONFLICT', 'GONE', 'IDEMPOTENCY_IN_PROGRESS'), ...roles],
    rules: groupPatch,
  },
  'POST /articles/{id}/stock-movements': {
    summary: 'Move stock in or out',
    body: asSchema(stockMovementSchema),
    success: { status: 201, body: answers.stockAnswer },
    headers: ['idempotency-key-required'],
    errors: money('INSUFFICIENT_STOCK'),
    rules: [
      ...existing,
      { status: 409, code: 'INSUFFICIENT_STOCK', when: 'the stock would go below 0: `current`, its ETag' },
      counterRule('/delta'),
      ...keyRules,
    ],
  },
} satisfies Record<string, Operation>;
