import {
  accountEntries,
  createAccount,
  createAccountSchema,
  getAccount,
  moveMoney,
  movementSchema,
  transfer,
  transferSchema,
} from '../lib/domain/accounts';
import { type Action, createHandler } from '../lib/http/handler';
import {
  notModified,
  pathParameter,
  queryParameters,
  requiredIdempotencyOf,
  writeContextOf,
} from '../lib/http/request';
import { json, readResult, recordResult } from '../lib/http/response';
import { pageQuerySchema, parseBody, parseQuery } from '../lib/http/validation';

const replayHeaders = (replayed: boolean): Record<string, string> =>
  replayed ? { 'Idempotent-Replayed': 'true' } : {};

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

export const handler = createHandler('accounts', {
  'POST /accounts': async (request) => {
    const input = parseBody(createAccountSchema, request.body);
    const { record, replayed } = await createAccount(input, writeContextOf(request));
    return recordResult(201, record, { replayed, headers: { Location: `/accounts/${record.id}` } });
  },

  'GET /accounts/{id}': async (request) => {
    const record = await getAccount(pathParameter(request, 'id'));
    return readResult(record, (version) => notModified(request, version));
  },

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
