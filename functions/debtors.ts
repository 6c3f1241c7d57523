import { createDebtor, getDebtor, listDebtors, patchDebtor, postToDebtor } from '../lib/domain/debtors';
import { createDebtorSchema, patchDebtorSchema, postingSchema } from '../lib/domain/schemas/debtors';
import { createAction, getAction, groupPatchAction, listAction } from '../lib/http/actions';
import { createHandler } from '../lib/http/handler';
import { pathParameter, requiredIdempotencyOf, writeContextOf } from '../lib/http/request';
import { json, replayHeaders } from '../lib/http/response';
import { parseBody } from '../lib/http/validation';
import { debtorRoutes } from '../lib/routes';

export const handler = createHandler(debtorRoutes, {
  'POST /debtors': createAction('debtors', createDebtorSchema, createDebtor),

  'GET /debtors': listAction(listDebtors),

  'GET /debtors/{id}': getAction(getDebtor),

  'PATCH /debtors/{id}': groupPatchAction(patchDebtorSchema, patchDebtor),

  'POST /debtors/{id}/postings': async (request) => {
    const posting = parseBody(postingSchema, request.body);
    const { balance, replayed } = await postToDebtor(
      pathParameter(request, 'id'),
      posting,
      requiredIdempotencyOf(request),
      writeContextOf(request),
    );
    return json(201, { balance }, replayHeaders(replayed));
  },
});
