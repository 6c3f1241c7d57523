import {
  createArticle,
  createArticleSchema,
  getArticle,
  moveStock,
  patchArticle,
  patchArticleSchema,
  stockMovementSchema,
} from '../lib/domain/articles';
import { createHandler } from '../lib/http/handler';
import { notModified, pathParameter, requiredIdempotencyOf, writeContextOf } from '../lib/http/request';
import { json, readResult, recordResult } from '../lib/http/response';
import { parseBody } from '../lib/http/validation';

export const handler = createHandler('articles', {
  'POST /articles': async (request) => {
    const input = parseBody(createArticleSchema, request.body);
    const { record, replayed } = await createArticle(input, writeContextOf(request));
    return recordResult(201, record, { replayed, headers: { Location: `/articles/${record.id}` } });
  },

  'GET /articles/{id}': async (request) => {
    const record = await getArticle(pathParameter(request, 'id'));
    return readResult(record, (version) => notModified(request, version));
  },

  'PATCH /articles/{id}': async (request) => {
    const patch = parseBody(patchArticleSchema, request.body);
    const result = await patchArticle(
      pathParameter(request, 'id'),
      patch,
      request.principal.roles,
      writeContextOf(request),
    );
    return recordResult(200, result.record, { body: result });
  },

  'POST /articles/{id}/stock-movements': async (request) => {
    const movement = parseBody(stockMovementSchema, request.body);
    const { inStock, replayed } = await moveStock(
      pathParameter(request, 'id'),
      movement,
      requiredIdempotencyOf(request),
      writeContextOf(request),
    );
    return json(201, { inStock }, replayed ? { 'Idempotent-Replayed': 'true' } : {});
  },
});
