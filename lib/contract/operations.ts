import { accountOperations } from './operations/accounts';
import { annotationOperations } from './operations/annotations';
import { fieldGroupOperations } from './operations/field-groups';
import type { Operation } from './operations/kinds';
import { orderOperations } from './operations/orders';
import * as answers from './responses';

export type { HeaderUse, Operation, Rule } from './operations/kinds';

/** Every route's operation, by route key, one file per resource; a route missing here fails a test. */
export const operations = {
  'GET /health': {
    summary: 'Health check',
    success: { status: 200, body: answers.health },
    errors: ['INTERNAL'],
  },
  'GET /openapi.json': {
    summary: 'This document',
    success: { status: 200, body: answers.openApi, etag: true },
    headers: ['if-none-match'],
    errors: ['INTERNAL'],
  },
  ...annotationOperations,
  ...orderOperations,
  ...fieldGroupOperations,
  ...accountOperations,
} satisfies Record<string, Operation>;

/** A route key of the document, e.g. `PATCH /annotations/{id}`. */
export type RouteKey = keyof typeof operations;
