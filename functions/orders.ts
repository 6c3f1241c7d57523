import { addLine, patchLine, removeLine, replaceOrder } from '../lib/domain/order-lines';
import {
  createOrder,
  getOrder,
  listOrders,
  orderEntity,
  patchOrder,
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
import { getAction, listAction, versionedAction } from '../lib/http/actions';
import { createHandler } from '../lib/http/handler';
import { lockActions } from '../lib/http/lock-actions';
import { writeContextOf } from '../lib/http/request';
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

  'PUT /orders/{id}': versionedAction(replaceOrderSchema, async ({ id, precondition, input, context }) => {
    const { order, replayed } = await replaceOrder(id, precondition, input, context);
    return recordResult(200, order, { replayed });
  }),

  'PATCH /orders/{id}': versionedAction(patchOrderSchema, async ({ id, precondition, input, context }) => {
    const { header, ...outcome } = await patchOrder(id, precondition, input, context);
    return recordResult(200, header, outcome);
  }),

  'POST /orders/{id}/lines': versionedAction(addLineSchema, async ({ id, precondition, input, context }) => {
    const { body, replayed } = await addLine(id, precondition, input, context);
    return recordResult(201, body, { replayed });
  }),

  'PATCH /orders/{id}/lines/{lineId}': versionedAction(
    patchLineSchema,
    async ({ id, childId, precondition, input, context }) => {
      const { body, replayed } = await patchLine(id, childId, precondition, input, context);
      return recordResult(200, body, { replayed });
    },
  ),

  'DELETE /orders/{id}/lines/{lineId}': versionedAction(
    deleteBodySchema,
    async ({ id, childId, precondition, context }) => {
      const { body, replayed } = await removeLine(id, childId, precondition, context);
      return recordResult(200, body, { replayed });
    },
  ),

  'POST /orders/{id}/transitions': versionedAction(
    transitionSchema,
    async ({ id, precondition, input, context, request }) => {
      const { header, ...outcome } = await transitionOrder(
        id,
        precondition,
        input.to,
        request.principal.roles,
        context,
      );
      return recordResult(200, header, outcome);
    },
  ),
});
