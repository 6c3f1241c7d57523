import { createArticle, getArticle, listArticles, moveStock, patchArticle } from '../lib/domain/articles';
import { createArticleSchema, patchArticleSchema, stockMovementSchema } from '../lib/domain/schemas/articles';
import { createAction, getAction, groupPatchAction, listAction } from '../lib/http/actions';
import { createHandler } from '../lib/http/handler';
import { pathParameter, requiredIdempotencyOf, writeContextOf } from '../lib/http/request';
import { json, replayHeaders } from '../lib/http/response';
import { parseBody } from '../lib/http/validation';
import { articleRoutes } from '../lib/routes';

export const handler = createHandler(articleRoutes, {
  'POST /articles': createAction('articles', createArticleSchema, createArticle),

  'GET /articles': listAction(listArticles),

  'GET /articles/{id}': getAction(getArticle),

  'PATCH /articles/{id}': groupPatchAction(patchArticleSchema, patchArticle),

  'POST /articles/{id}/stock-movements': async (request) => {
    const movement = parseBody(stockMovementSchema, request.body);
    const { inStock, replayed } = await moveStock(
      pathParameter(request, 'id'),
      movement,
      requiredIdempotencyOf(request),
      writeContextOf(request),
    );
    return json(201, { inStock }, replayHeaders(replayed));
  },
});
