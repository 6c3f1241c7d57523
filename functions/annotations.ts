import {
  annotationEntity,
  batchUpdateAnnotations,
  createAnnotation,
  deleteAnnotation,
  getAnnotation,
  listAnnotations,
  patchAnnotation,
  replaceAnnotation,
} from '../lib/domain/annotations';
import {
  annotationFieldsSchema,
  batchSchema,
  patchAnnotationSchema,
  replaceAnnotationSchema,
} from '../lib/domain/schemas/annotations';
import { createAction, getAction, listAction, versionedAction } from '../lib/http/actions';
import { createHandler } from '../lib/http/handler';
import { lockActions } from '../lib/http/lock-actions';
import { writeContextOf } from '../lib/http/request';
import { json, noContent, recordResult, replayHeaders } from '../lib/http/response';
import { deleteBodySchema, parseBody } from '../lib/http/validation';
import { annotationRoutes } from '../lib/routes';

export const handler = createHandler(annotationRoutes, {
  ...lockActions(annotationEntity, 'annotations'),

  'POST /annotations': createAction('annotations', annotationFieldsSchema, createAnnotation),

  'GET /annotations': listAction(listAnnotations),

  'GET /annotations/{id}': getAction(getAnnotation),

  'PUT /annotations/{id}': versionedAction(
    replaceAnnotationSchema,
    async ({ id, precondition, input, context }) => {
      const { record, ...outcome } = await replaceAnnotation(id, precondition, input, context);
      return recordResult(200, record, outcome);
    },
  ),

  'PATCH /annotations/{id}': versionedAction(
    patchAnnotationSchema,
    async ({ id, precondition, input, context }) => {
      const { record, ...outcome } = await patchAnnotation(id, precondition, input, context);
      return recordResult(200, record, outcome);
    },
  ),

  'DELETE /annotations/{id}': versionedAction(deleteBodySchema, async ({ id, precondition, context }) => {
    const { replayed } = await deleteAnnotation(id, precondition, context);
    return noContent(replayHeaders(replayed));
  }),

  'POST /annotations/batch': async (request) => {
    const { atomic, updates } = parseBody(batchSchema, request.body);
    const { results, replayed } = await batchUpdateAnnotations(updates, atomic, writeContextOf(request));
    return json(200, { results }, replayHeaders(replayed));
  },
});
