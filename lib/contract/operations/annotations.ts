import {
  annotationFieldsSchema,
  batchSchema,
  patchAnnotationSchema,
  replaceAnnotationSchema,
} from '../../domain/schemas/annotations';
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
  read,
  record,
  writeHeaders,
} from './kinds';
import { lockOperations } from './locks';

/** Annotations: simple versioned records any signed-in user may change, with leases. */
export const annotationOperations = {
  'POST /annotations': {
    summary: 'Create an annotation',
    body: asSchema(annotationFieldsSchema),
    success: { ...record(answers.annotationRecord, 201), location: true },
    headers: ['idempotency-key'],
    errors: create(),
    rules: keyRules,
  },
  'GET /annotations': {
    summary: 'List annotations, newest first',
    paged: true,
    search: 'name',
    success: { status: 200, body: answers.page(answers.annotationRecord) },
    errors: read,
    rules: pageRules,
  },
  'POST /annotations/batch': {
    summary: 'Update many annotations, each on its own or all at once',
    body: asSchema(batchSchema),
    success: { status: 200, body: answers.batchAnswer },
    headers: ['idempotency-key'],
    errors: create('STALE_DATA', 'GONE', 'LOCKED', 'TOO_MANY_CHANGES', 'IDEMPOTENCY_IN_PROGRESS'),
    rules: [
      {
        status: 422,
        code: 'VALIDATION_FAILED',
        pointer: '/updates/*/id',
        when: 'an id is named by more than one update',
      },
      {
        status: 409,
        code: 'STALE_DATA',
        when: 'atomic: an update whose `version` is stale; nothing is applied, `results` names each failing id (other failing codes likewise); not atomic: each result says its own outcome, the answer is 200',
      },
      ...keyRules,
    ],
  },
  'GET /annotations/{id}': {
    summary: 'Read an annotation',
    success: record(answers.annotationRecord),
    headers: ['if-none-match'],
    errors: read,
    rules: existing,
  },
  'PUT /annotations/{id}': {
    summary: 'Replace an annotation',
    body: asSchema(replaceAnnotationSchema),
    success: changed(answers.annotationRecord),
    headers: writeHeaders,
    errors: change(),
    rules: [...preconditionRules, ...keyRules],
  },
  'PATCH /annotations/{id}': {
    summary: 'Change an annotation (JSON Merge Patch)',
    body: asSchema(patchAnnotationSchema),
    success: changed(answers.annotationRecord),
    headers: writeHeaders,
    errors: change(),
    rules: [...preconditionRules, ...keyRules],
  },
  'DELETE /annotations/{id}': {
    summary: 'Delete an annotation',
    body: asSchema(deleteBodySchema),
    success: { status: 204 },
    headers: writeHeaders,
    errors: change(),
    rules: [...preconditionRules, ...keyRules],
  },
  ...lockOperations('annotations'),
} satisfies Record<string, Operation>;
