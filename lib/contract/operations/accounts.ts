import { createAccountSchema, movementSchema, transferSchema } from '../../domain/schemas/accounts';
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
  roles,
} from './kinds';

const insufficient: Rule = {
  status: 409,
  code: 'INSUFFICIENT_FUNDS',
  when: 'the balance does not cover the amount: `current` (the account), its ETag',
};

/** Accounts: balances that move only with an entry, exactly once per key. */
export const accountOperations = {
  'POST /accounts': {
    summary: 'Open an account',
    body: asSchema(createAccountSchema),
    success: { ...record(answers.account, 201), location: true },
    headers: ['idempotency-key'],
    errors: [...create(), ...roles],
    rules: keyRules,
  },
  'GET /accounts': {
    summary: 'List accounts, newest first',
    paged: true,
    search: 'name',
    success: { status: 200, body: answers.page(answers.account) },
    errors: [...read, ...roles],
    rules: pageRules,
  },
  'GET /accounts/{id}': {
    summary: 'Read an account',
    success: record(answers.account),
    headers: ['if-none-match'],
    errors: [...read, ...roles],
    rules: existing,
  },
  'POST /accounts/{id}/deposits': {
    summary: 'Deposit',
    body: asSchema(movementSchema),
    success: { status: 201, body: answers.movementAnswer },
    headers: ['idempotency-key-required'],
    errors: money(),
    rules: [...existing, counterRule('/amount'), ...keyRules],
  },
  'POST /accounts/{id}/withdrawals': {
    summary: 'Withdraw',
    body: asSchema(movementSchema),
    success: { status: 201, body: answers.movementAnswer },
    headers: ['idempotency-key-required'],
    errors: money('INSUFFICIENT_FUNDS'),
    rules: [...existing, insufficient, ...keyRules],
  },
  'GET /accounts/{id}/entries': {
    summary: "List an account's entries, newest first",
    paged: true,
    success: { status: 200, body: answers.page(answers.ledgerEntry) },
    errors: [...read, ...roles],
    rules: [...existing, ...pageRules],
  },
  'POST /transfers': {
    summary: 'Transfer between two accounts of one currency',
    body: asSchema(transferSchema),
    success: { status: 201, body: answers.transferAnswer },
    headers: ['idempotency-key-required'],
    errors: money('INSUFFICIENT_FUNDS'),
    rules: [
      { status: 404, code: 'NOT_FOUND', when: '`from` or `to` names no account' },
      { status: 410, code: 'GONE', when: '`from` or `to` names a deleted account' },
      {
        status: 422,
        code: 'VALIDATION_FAILED',
        pointer: '/to',
        when: '`to` is `from` (a transfer needs two accounts), or the two accounts hold different currencies',
      },
      insufficient,
      counterRule('/amount'),
      ...keyRules,
    ],
  },
} satisfies Record<string, Operation>;
