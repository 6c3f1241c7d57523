import type * as z from 'zod/mini';
import { totalOf } from '../core/build/children';
import type { StoredItem } from '../core/build/items';
import { newId } from '../core/build/keys';
import {
  mergePatch,
  type PublicRecord,
  toPublicChild,
  toPublicRecord,
  type WriteContext,
} from '../core/build/records';
import type { Precondition } from '../core/build/version';
import { assertHeaderAllows, childSeq, inAddedOrder } from '../core/features/aggregates/actions';
import { createAggregate, readAggregate, writeHeader } from '../core/features/aggregates/aggregate';
import type { Aggregate } from '../core/features/aggregates/spec';
import { listOf } from '../core/features/records/store';
import { ForbiddenError, InvalidStateError, StaleDataError } from '../errors';
import { EDITABLE, type OrderStatus, orderEntity, orderStatuses, transitions } from './catalog';
import type { Role } from './roles';
import type { createOrderSchema, LineFields } from './schemas/orders';

export { type OrderStatus, orderEntity, orderStatuses };

export interface OrderLine extends LineFields {
  lineId: string;
}

/**
 * The exact sum of quantity × unitPrice over the lines. 500 lines at the contract's limits
 * reach 5e17, past the integers a double holds exactly: past 2^53 it is written as its exact
 * digits rather than rounded. The header keeps each line's amount too, for lists (`total`).
 */
const orderTotal = (lines: readonly StoredItem[]): unknown =>
  totalOf(lines.map((line) => orderEntity.amount?.of(line) ?? 0));

/** The order as the API shows it: header, lines in the order they were added, total. */
export const orderView = ({ header, children }: Aggregate, now: Date): PublicRecord => {
  const added = inAddedOrder(children);
  const lines = added.map(toPublicChild) as unknown as OrderLine[];
  const {
    version: v,
    createdAt,
    createdBy,
    updatedAt,
    updatedBy,
    lock,
    lineCount: _count,
    total: _kept,
    ...fields
  } = toPublicRecord(header, now);
  return {
    ...fields,
    lines,
    total: orderTotal(added),
    version: v,
    createdAt,
    createdBy,
    updatedAt,
    updatedBy,
    ...(lock ? { lock } : {}),
  };
};

/**
 * A stale order answer carries the whole current order: one more Query for its lines,
 * unless the refusal came from a read that had them. `present` says whether the current
 * order already holds the change, for `changeAlreadyPresent`.
 */
export const withCurrentOrder = async <T>(
  id: string,
  now: Date,
  write: () => Promise<T>,
  present?: (order: Aggregate) => boolean,
): Promise<T> => {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof StaleDataError) || 'lines' in error.current) throw error;
    const order = await readAggregate(orderEntity, id, now);
    throw error.withCurrent(orderView(order, now), { changeAlreadyPresent: present?.(order) ?? false });
  }
};

/** A refusal found in the order as read carries that order, lines and all. */
export const assertOrderAllows = (
  actions: Parameters<typeof assertHeaderAllows>[0],
  order: Aggregate,
  now: Date,
  present: boolean,
): void => {
  try {
    assertHeaderAllows(actions, order.header);
  } catch (error) {
    if (error instanceof StaleDataError) {
      throw error.withCurrent(orderView(order, now), { changeAlreadyPresent: present });
    }
    throw error;
  }
};

export const lineItem = (fields: LineFields, seq: string) => ({ ...fields, seq });

export const createOrder = async (
  input: z.infer<typeof createOrderSchema>,
  context: WriteContext,
): Promise<{ order: PublicRecord; replayed: boolean }> => {
  const { lines = [], ...fields } = input;
  const children = lines.map((line, index) => ({
    childId: newId(),
    fields: lineItem(line, childSeq(context.now, index)),
  }));
  const { response, replayed } = await createAggregate(
    orderEntity,
    { ...fields, status: 'draft' },
    children,
    context,
    (header) =>
      orderView(
        { header, children: children.map((child) => ({ lineId: child.childId, ...child.fields })) },
        context.now,
      ),
  );
  return { order: response, replayed };
};

export const getOrder = async (id: string, now: Date): Promise<PublicRecord> =>
  orderView(await readAggregate(orderEntity, id, now), now);

export const listOrders = listOf(orderEntity);

/** `PATCH /orders/{id}`: header fields only, while draft; answers the header. */
export const patchOrder = (
  id: string,
  precondition: Precondition,
  patch: { customer?: string | undefined; notes?: string | null | undefined },
  context: WriteContext,
): Promise<{ header: PublicRecord; replayed: boolean; appliedVersion?: number }> =>
  withCurrentOrder(id, context.now, async () => {
    const { response, ...outcome } = await writeHeader(
      orderEntity,
      id,
      { precondition, header: mergePatch(patch), allowedStatuses: EDITABLE },
      context,
      (header) => toPublicRecord(header, context.now),
    );
    return { header: response, ...outcome };
  });

/** `POST /orders/{id}/transitions`: the state machine, with the role each move needs. */
export const transitionOrder = (
  id: string,
  precondition: Precondition,
  to: OrderStatus,
  roles: readonly Role[],
  context: WriteContext,
): Promise<{ header: PublicRecord; replayed: boolean; appliedVersion?: number }> => {
  const move = transitions[to];
  if (!move) throw new InvalidStateError(`No order moves to ${to}.`);
  if (!move.roles.some((role) => roles.includes(role))) {
    throw new ForbiddenError(`Moving an order to ${to} needs one of: ${move.roles.join(', ')}.`);
  }
  return withCurrentOrder(id, context.now, async () => {
    const { response, ...outcome } = await writeHeader(
      orderEntity,
      id,
      { precondition, header: { set: { status: to }, remove: [] }, allowedStatuses: move.from },
      context,
      (header) => toPublicRecord(header, context.now),
    );
    return { header: response, ...outcome };
  });
};
