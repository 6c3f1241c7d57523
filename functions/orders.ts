import {
  addLine,
  createOrder,
  getOrder,
  listOrders,
  orderEntity,
  patchLine,
  patchOrder,
  removeLine,
  replaceOrder,
  transitionOrder,
} from '../lib/domain/orders';
import {
  addLineSchema,
  createOrderSchema,
  patchLineSchema,
  patchOrderSchema,
  replaceOrderSchema,
  transitionSchema,
} from '../lib/domain/schemas/orders';
import { getAction, listAction } from '../lib/http/actions';
import { createHandler } from '../lib/http/handler';
import { lockActions } from '../lib/http/lock-actions';
import { pathParameter, preconditionOf, writeContextOf } from '../lib/http/request';
import { recordResult } from '../lib/http/response';
import { deleteBodySchema, parseBody } from '../lib/http/validation';
import { orderRoutes } from '../lib/routes';

export const handler = createHandler(orderRoutes, {
  ...lockActions(orderEntity, 'orders'),

  'POST /orders': async (request) => {
    const input = parseBody(createOrderSchema, request.body);
    const { order, replayed } = await createOrder(input, writeContextOf(request));
    return recordResult(201, order, { replayed, headers: { Location: `/orders/${order.id}` } });
  },

  'GET /orders': listAction(listOrders),

  'GET /orders/{id}': getAction(getOrder),

  'PUT /orders/{id}': async (request) => {
    const { version, ...input } = parseBody(replaceOrderSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { order, replayed } = await replaceOrder(
      pathParameter(request, 'id'),
      precondition,
      input,
      writeContextOf(request),
    );
    return recordResult(200, order, { replayed });
  },

  'PATCH /orders/{id}': async (request) => {
    const { version, ...patch } = parseBody(patchOrderSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { header, ...outcome } = await patchOrder(
      pathParameter(request, 'id'),
      precondition,
      patch,
      writeContextOf(request),
    );
    return recordResult(200, header, outcome);
  },

  'POST /orders/{id}/lines': async (request) => {
    const { version, ...line } = parseBody(addLineSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { body, replayed } = await addLine(
      pathParameter(request, 'id'),
      precondition,
      line,
      writeContextOf(request),
    );
    return recordResult(201, body, { replayed });
  },

  'PATCH /orders/{id}/lines/{lineId}': async (request) => {
    const { version, ...patch } = parseBody(patchLineSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { body, replayed } = await patchLine(
      pathParameter(request, 'id'),
      pathParameter(request, 'lineId'),
      precondition,
      patch,
      writeContextOf(request),
    );
    return recordResult(200, body, { replayed });
  },

  'DELETE /orders/{id}/lines/{lineId}': async (request) => {
    const precondition = preconditionOf(request, parseBody(deleteBodySchema, request.body)?.version);
    const { body, replayed } = await removeLine(
      pathParameter(request, 'id'),
      pathParameter(request, 'lineId'),
      precondition,
      writeContextOf(request),
    );
    return recordResult(200, body, { replayed });
  },

  'POST /orders/{id}/transitions': async (request) => {
    const { version, to } = parseBody(transitionSchema, request.body);
    const precondition = preconditionOf(request, version);
    const { header, ...outcome } = await transitionOrder(
      pathParameter(request, 'id'),
      precondition,
      to,
      request.principal.roles,
      writeContextOf(request),
    );
    return recordResult(200, header, outcome);
  },
});
