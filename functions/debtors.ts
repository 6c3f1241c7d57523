import {
  createDebtor,
  createDebtorSchema,
  getDebtor,
  patchDebtor,
  patchDebtorSchema,
  postingSchema,
  postToDebtor,
} from '../lib/domain/debtors';
import { createHandler } from '../lib/http/handler';
import { notModified, pathParameter, requiredIdempotencyOf, writeContextOf } from '../lib/http/request';
import { json, readResult, recordResult } from '../lib/http/response';
import { parseBody } from '../lib/http/validation';

export const handler = createHandler('debtors', {
  'POST /debtors': async (request) => {
    const fields = parseBody(createDebtorSchema, request.body);
    const { record, replayed } = await createDebtor(fields, writeContextOf(request));
    return recordResult(201, record, { replayed, headers: { Location: `/debtors/${record.id}` } });
  },

  'GET /debtors/{id}': async (request) => {
    const record = await getDebtor(pathParameter(request, 'id'));
    return readResult(record, (version) => notModified(request, version));
  },

  'PATCH /debtors/{id}': async (request) => {
    const patch = parseBody(patchDebtorSchema, request.body);
    const result = await patchDebtor(
      pathParameter(request, 'id'),
      patch,
      request.principal.roles,
      writeContextOf(request),
    );
    return recordResult(200, result.record, { body: result });
  },

  'POST /debtors/{id}/postings': async (request) => {
    const posting = parseBody(postingSchema, request.body);
    const { balance, replayed } = await postToDebtor(
      pathParameter(request, 'id'),
      posting,
      requiredIdempotencyOf(request),
      writeContextOf(request),
    );
    return json(201, { balance }, replayed ? { 'Idempotent-Replayed': 'true' } : {});
  },
});
