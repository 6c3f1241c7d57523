import {
  accountEntries,
  createAccount,
  getAccount,
  listAccounts,
  moveMoney,
  transfer,
} from '../lib/domain/accounts';
import { createAccountSchema, movementSchema, transferSchema } from '../lib/domain/schemas/accounts';
import { createAction, getAction, listAction } from '../lib/http/actions';
import { type Action, createHandler } from '../lib/http/handler';
import { pathParameter, queryParameters, requiredIdempotencyOf, writeContextOf } from '../lib/http/request';
import { json, replayHeaders } from '../lib/http/response';
import { pageQuerySchema, parseBody, parseQuery } from '../lib/http/validation';
import { accountRoutes } from '../lib/routes';

const movement =
  (kind: 'deposit' | 'withdrawal'): Action =>
  async (request) => {
    const input = parseBody(movementSchema, request.body);
    const { replayed, ...body } = await moveMoney(
      pathParameter(request, 'id'),
      kind,
      input,
      requiredIdempotencyOf(request),
      writeContextOf(request),
    );
    return json(201, body, replayHeaders(replayed));
  };

export const handler = createHandler(accountRoutes, {
  'POST /accounts': createAction('accounts', createAccountSchema, createAccount),

  'GET /accounts': listAction(listAccounts),

  'GET /accounts/{id}': getAction(getAccount),

  'POST /accounts/{id}/deposits': movement('deposit'),
  'POST /accounts/{id}/withdrawals': movement('withdrawal'),

  'GET /accounts/{id}/entries': async (request) => {
    const query = parseQuery(pageQuerySchema, queryParameters(request));
    return json(200, await accountEntries(pathParameter(request, 'id'), query));
  },

  'POST /transfers': async (request) => {
    const input = parseBody(transferSchema, request.body);
    const { body, replayed } = await transfer(input, requiredIdempotencyOf(request), writeContextOf(request));
    return json(201, body, replayHeaders(replayed));
  },
});
