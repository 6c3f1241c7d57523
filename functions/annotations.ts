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
import { createAction, getAction, listAction } from '../lib/http/actions';
import { createHandler } from '../lib/http/handler';
import { lockActions } from '../lib/http/lock-actions';
import { pathParameter, preconditionOf, writeContextOf } from '../lib/http/request';
import { json, noContent, recordResult, replayHeaders } from '../lib/http/response';
import { deleteBodySchema, parseBody } from '../lib/http/validation';
import { annotationRoutes } from '../lib/routes';

export const handler = createHandler(annotationRoutes, {
  ...lockActions(annotationEntity, 'annotations'),

  'POST /annotations': createAction('annotations', annotationFieldsSchema, createAnnotation),

  'GET /annotations': listAction(listAnnotations),

  'GET /annotations/{id}': getAction(getAnnotation),

  'PUT /annotations/{id}': async (request) => {
    const { version, ...fields } = parseBody(replaceAnnotationSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { record, ...outcome } = await replaceAnnotation(
      pathParameter(request, 'id'),
      precondition,
      fields,
      writeContextOf(request),
    );
    return recordResult(200, record, outcome);
  },

  'PATCH /annotations/{id}': async (request) => {
    const { version, ...patch } = parseBody(patchAnnotationSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { record, ...outcome } = await patchAnnotation(
      pathParameter(request, 'id'),
      precondition,
      patch,
      writeContextOf(request),
    );
    return recordResult(200, record, outcome);
  },

  'DELETE /annotations/{id}': async (request) => {
    const precondition = preconditionOf(request, parseBody(deleteBodySchema, request.body)?.version);
    const { replayed } = await deleteAnnotation(
      pathParameter(request, 'id'),
      precondition,
      writeContextOf(request),
    );
    return noContent(replayHeaders(replayed));
  },

  'POST /annotations/batch': async (request) => {
    const { atomic, updates } = parseBody(batchSchema, request.body);
    const { results, replayed } = await batchUpdateAnnotations(updates, atomic, writeContextOf(request));
    return json(200, { results }, replayHeaders(replayed));
  },
});
