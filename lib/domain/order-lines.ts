import { isDeepStrictEqual } from 'node:util';
import type * as z from 'zod/mini';
import type { StoredItem } from '../core/build/items';
import { newId } from '../core/build/keys';
import {
  type Change,
  changeIsPresent,
  mergePatch,
  noChange,
  type PublicRecord,
  toPublicChild,
  type WriteContext,
  withChange,
} from '../core/build/records';
import { type Precondition, pinnedTo } from '../core/build/version';
import {
  aggregateActions,
  assertHeaderAllows,
  childSeq,
  inAddedOrder,
} from '../core/features/aggregates/actions';
import { readAggregate, readHeader } from '../core/features/aggregates/aggregate';
import { NothingKeptError } from '../core/features/aggregates/kept';
import type { Aggregate, AggregateWrite, ChildWrite } from '../core/features/aggregates/spec';
import { commit } from '../core/once/commit';
import { NotFoundError, ValidationError } from '../errors';
import { EDITABLE } from './catalog';
import { assertOrderAllows, lineItem, orderEntity, orderView, withCurrentOrder } from './orders';
import type { LineFields, replaceOrderSchema } from './schemas/orders';

/**
 * An order's lines: every change to them goes with the header's version bump, in one
 * transaction (the aggregate writer), and a refusal carries the whole order.
 */

/**
 * A line write that needs no line read (an add, a removal): the header's version bump and
 * the child write in one transaction. `If-Match: *` reads the header first, to pin the
 * transaction to the version there is, and reads again if it moves.
 */
const writeLinesBlind = async <R>(
  id: string,
  precondition: Precondition,
  write: Omit<AggregateWrite, 'precondition' | 'pinned'>,
  context: WriteContext,
  response: (version: number) => R,
) => {
  const planned = (header: StoredItem | undefined, read?: Aggregate) => {
    const pinned = pinnedTo(precondition, header);
    const actions = aggregateActions(
      orderEntity,
      id,
      { ...write, precondition: pinned, pinned: precondition.kind === 'any', ...(read ? { read } : {}) },
      context,
    );
    if (precondition.kind === 'any' || read) assertHeaderAllows(actions, header);
    return { actions, response: response(pinned.version + 1) };
  };
  try {
    return await commit(
      {
        read: () => (precondition.kind === 'any' ? readHeader(orderEntity, id) : Promise.resolve(undefined)),
        plan: (header) => planned(header),
      },
      context,
    );
  } catch (error) {
    if (!(error instanceof NothingKeptError)) throw error;
    // An order stored before headers kept their lines: read it whole and write them all.
    return commit(
      {
        read: () => readAggregate(orderEntity, id, context.now),
        plan: (order) => planned(order.header, order),
      },
      context,
    );
  }
};

/** `POST /orders/{id}/lines`: one new line and the header's version bump, in one transaction. */
export const addLine = (
  id: string,
  precondition: Precondition,
  line: LineFields,
  context: WriteContext,
): Promise<{
  body: { orderId: string; version: number; line: Record<string, unknown> };
  replayed: boolean;
}> =>
  withCurrentOrder(id, context.now, async () => {
    const lineId = newId();
    const { response, replayed } = await writeLinesBlind(
      id,
      precondition,
      {
        header: noChange,
        children: [{ kind: 'add', childId: lineId, fields: lineItem(line, childSeq(context.now, 0)) }],
        allowedStatuses: EDITABLE,
        childCount: { delta: 1 },
      },
      context,
      (version) => ({ orderId: id, version, line: { lineId, ...line } }),
    );
    return { body: response, replayed };
  });

/**
 * `PATCH /orders/{id}/lines/{lineId}`: reads the order (header and lines, one Query), then
 * writes the merge patch and the header bump in one transaction pinned to the version read,
 * so the answer's line is exact. Reading header and lines together tells a line removed
 * since the caller's read (stale: 412/409 with the order) from one that never was (404).
 */
export const patchLine = (
  id: string,
  lineId: string,
  precondition: Precondition,
  patch: Record<string, unknown>,
  context: WriteContext,
): Promise<{
  body: { orderId: string; version: number; line: Record<string, unknown> };
  replayed: boolean;
}> => {
  const change = mergePatch(patch);
  return withCurrentOrder(id, context.now, async () => {
    const { response, replayed } = await commit(
      {
        read: () => readAggregate(orderEntity, id, context.now),
        plan: (order) => {
          const pinned = pinnedTo(precondition, order.header);
          const version = pinned.version;
          const before = order.children.find((child) => child.lineId === lineId);
          const children: ChildWrite[] = before ? [{ kind: 'update', childId: lineId, change, before }] : [];
          const actions = aggregateActions(
            orderEntity,
            id,
            {
              precondition: pinned,
              pinned: precondition.kind === 'any',
              header: noChange,
              children,
              allowedStatuses: EDITABLE,
              read: order,
            },
            context,
          );
          assertOrderAllows(
            actions,
            order,
            context.now,
            before !== undefined && changeIsPresent(before, change),
          );
          if (!before) throw new NotFoundError('No such line.');
          const line = toPublicChild(withChange(before, change));
          return { actions, response: { orderId: id, version: version + 1, line } };
        },
      },
      context,
    );
    return { body: response, replayed };
  });
};

/** `DELETE /orders/{id}/lines/{lineId}`: the line's removal and the header bump, one transaction. */
export const removeLine = (
  id: string,
  lineId: string,
  precondition: Precondition,
  context: WriteContext,
): Promise<{ body: { orderId: string; version: number }; replayed: boolean }> =>
  withCurrentOrder(
    id,
    context.now,
    async () => {
      const { response, replayed } = await writeLinesBlind(
        id,
        precondition,
        {
          header: noChange,
          children: [{ kind: 'remove', childId: lineId }],
          allowedStatuses: EDITABLE,
          childCount: { delta: -1 },
        },
        context,
        (version) => ({ orderId: id, version }),
      );
      return { body: response, replayed };
    },
    // Someone else removed the line already: still stale, but the change is there.
    (order) => !order.children.some((child) => child.lineId === lineId),
  );

/** Whether the order already holds what a PUT asks for: same header fields, same lines in order. */
const holdsReplacement = (order: Aggregate, input: Omit<z.infer<typeof replaceOrderSchema>, 'version'>) => {
  const lines = inAddedOrder(order.children).map((child) => {
    const { lineId: _id, ...fields } = toPublicChild(child);
    return fields;
  });
  const wanted = input.lines.map(({ lineId: _id, ...fields }) => fields);
  return (
    order.header.customer === input.customer &&
    order.header.notes === input.notes &&
    isDeepStrictEqual(lines, wanted)
  );
};

/**
 * `PUT /orders/{id}`: reads the order, diffs the given lines against the stored ones and
 * writes only what changed, with the header, in one transaction. Lines with a known
 * `lineId` are kept or changed, lines without one added, lines left out removed.
 */
export const replaceOrder = (
  id: string,
  precondition: Precondition,
  input: Omit<z.infer<typeof replaceOrderSchema>, 'version'>,
  context: WriteContext,
): Promise<{ order: PublicRecord; replayed: boolean }> =>
  withCurrentOrder(id, context.now, async () => {
    const { response, replayed } = await commit(
      {
        read: () => readAggregate(orderEntity, id, context.now),
        plan: (stored) => {
          const pinned = pinnedTo(precondition, stored.header);
          const version = pinned.version;
          const header: Change = {
            set: { customer: input.customer, ...(input.notes === undefined ? {} : { notes: input.notes }) },
            remove: input.notes === undefined ? ['notes'] : [],
          };
          const write = (children: ChildWrite[], count: number): AggregateWrite => ({
            precondition: pinned,
            pinned: precondition.kind === 'any',
            header,
            children,
            allowedStatuses: EDITABLE,
            childCount: { set: count },
            read: stored,
            whole: true,
          });
          // The header's rules (lock, version, state) decide before the lines are looked at.
          assertOrderAllows(
            aggregateActions(orderEntity, id, write([], 0), { ...context, idempotency: undefined }),
            stored,
            context.now,
            holdsReplacement(stored, input),
          );
          const storedLines = new Map(stored.children.map((child) => [String(child.lineId), child]));
          const unknown = input.lines.flatMap((line, index) =>
            line.lineId !== undefined && !storedLines.has(line.lineId)
              ? [{ pointer: `/lines/${index}/lineId`, detail: 'No such line in this order.' }]
              : [],
          );
          if (unknown.length > 0) throw new ValidationError(unknown);

          const writes: ChildWrite[] = [];
          const finalLines: StoredItem[] = [];
          input.lines.forEach(({ lineId, ...fields }, index) => {
            const existing = lineId === undefined ? undefined : storedLines.get(lineId);
            if (lineId !== undefined && existing) {
              const item = lineItem(fields, String(existing.seq));
              const changed = !isDeepStrictEqual(toPublicChild({ ...existing, lineId: undefined }), {
                ...fields,
                lineId: undefined,
              });
              if (changed) writes.push({ kind: 'replace', childId: lineId, fields: item });
              finalLines.push({ lineId, ...item });
            } else {
              const childId = newId();
              const item = lineItem(fields, childSeq(context.now, index));
              writes.push({ kind: 'add', childId, fields: item });
              finalLines.push({ lineId: childId, ...item });
            }
          });
          const kept = new Set(input.lines.map((line) => line.lineId));
          for (const lineId of storedLines.keys()) {
            if (!kept.has(lineId)) writes.push({ kind: 'remove', childId: lineId });
          }
          const actions = aggregateActions(orderEntity, id, write(writes, finalLines.length), context);
          const { notes: _notes, ...headerBefore } = stored.header;
          const headerAfter: StoredItem = {
            ...headerBefore,
            ...header.set,
            version: version + 1,
            updatedAt: context.now.toISOString(),
            updatedBy: context.actor,
          };
          return { actions, response: orderView({ header: headerAfter, children: finalLines }, context.now) };
        },
      },
      context,
    );
    return { order: response, replayed };
  });
