import {
  annotationEntity,
  annotationFieldsSchema,
  batchSchema,
  batchUpdateAnnotations,
  createAnnotation,
  deleteAnnotation,
  getAnnotation,
  listAnnotations,
  patchAnnotation,
  patchAnnotationSchema,
  replaceAnnotation,
  replaceAnnotationSchema,
} from '../lib/domain/annotations';
import { createHandler } from '../lib/http/handler';
import { lockActions } from '../lib/http/lock-actions';
import {
  notModified,
  pathParameter,
  preconditionOf,
  queryParameters,
  writeContextOf,
} from '../lib/http/request';
import { json, noContent, readResult, recordResult } from '../lib/http/response';
import { pageQuerySchema, parseBody, parseQuery } from '../lib/http/validation';

export const handler = createHandler('annotations', {
  ...lockActions(annotationEntity, 'annotations'),

  'POST /annotations': async (request) => {
    const fields = parseBody(annotationFieldsSchema, request.body);
    const { record, replayed } = await createAnnotation(fields, writeContextOf(request));
    return recordResult(201, record, { replayed, headers: { Location: `/annotations/${record.id}` } });
  },

  'GET /annotations': async (request) => {
    const query = parseQuery(pageQuerySchema, queryParameters(request));
    return json(200, await listAnnotations(query));
  },

  'GET /annotations/{id}': async (request) => {
    const record = await getAnnotation(pathParameter(request, 'id'));
    return readResult(record, (version) => notModified(request, version));
  },

  'PUT /annotations/{id}': async (request) => {
    const { version, ...fields } = parseBody(replaceAnnotationSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { record, replayed } = await replaceAnnotation(
      pathParameter(request, 'id'),
      precondition,
      fields,
      writeContextOf(request),
    );
    return recordResult(200, record, { replayed });
  },

  'PATCH /annotations/{id}': async (request) => {
    const { version, ...patch } = parseBody(patchAnnotationSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { record, replayed } = await patchAnnotation(
      pathParameter(request, 'id'),
      precondition,
      patch,
      writeContextOf(request),
    );
    return recordResult(200, record, { replayed });
  },

  'DELETE /annotations/{id}': async (request) => {
    const precondition = preconditionOf(request, undefined);
    const { replayed } = await deleteAnnotation(
      pathParameter(request, 'id'),
      precondition,
      writeContextOf(request),
    );
    return noContent(replayed ? { 'Idempotent-Replayed': 'true' } : {});
  },

  'POST /annotations/batch': async (request) => {
    const { atomic, updates } = parseBody(batchSchema, request.body);
    const results = await batchUpdateAnnotations(updates, atomic, writeContextOf(request));
    return json(200, { results });
  },
});
