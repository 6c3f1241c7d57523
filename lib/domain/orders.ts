import { isDeepStrictEqual } from 'node:util';
import type * as z from 'zod/mini';
import {
  type Aggregate,
  type AggregateWrite,
  aggregateActions,
  assertHeaderAllows,
  type ChildWrite,
  childSeq,
  createAggregate,
  inAddedOrder,
  readAggregate,
  readHeader,
  toPublicChild,
  writeHeader,
} from '../core/aggregate';
import { planAndCommit } from '../core/commit';
import { newId } from '../core/keys';
import { listOf } from '../core/record-store';
import {
  type Change,
  changeIsPresent,
  mergePatch,
  noChange,
  type Precondition,
  type PublicRecord,
  toPublicRecord,
  type WriteContext,
} from '../core/records';
import type { StoredItem } from '../core/sdk-errors';
import { ForbiddenError, InvalidStateError, NotFoundError, StaleDataError, ValidationError } from '../errors';
import { EDITABLE, type OrderStatus, orderEntity, orderStatuses, transitions } from './catalog';
import type { Role } from './roles';
import type { createOrderSchema, LineFields, replaceOrderSchema } from './schemas/orders';

export { type OrderStatus, orderEntity, orderStatuses };

export interface OrderLine extends LineFields {
  lineId: string;
}

// Node 22 (the Lambda runtime) has JSON.rawJSON; TypeScript's ES2023 lib does not declare it.
const rawJson = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * The exact sum of quantity × unitPrice. 500 lines at the contract's limits reach 5e17, past
 * the integers a double holds exactly, so the sum is taken in BigInt and, past 2^53,
 * written as its exact digits rather than rounded.
 */
const orderTotal = (lines: readonly { quantity: number; unitPrice: number }[]): unknown => {
  const total = lines.reduce((sum, line) => sum + BigInt(line.quantity) * BigInt(line.unitPrice), 0n);
  if (total <= BigInt(Number.MAX_SAFE_INTEGER) || !rawJson) return Number(total);
  return rawJson(total.toString());
};

/** The order as the API shows it: header, lines in the order they were added, total. */
export const orderView = ({ header, children }: Aggregate, now: Date): PublicRecord => {
  const lines = inAddedOrder(children).map(toPublicChild) as unknown as OrderLine[];
  const {
    version: v,
    createdAt,
    createdBy,
    updatedAt,
    updatedBy,
    lock,
    lineCount: _count,
    ...fields
  } = toPublicRecord(header, now);
  return {
    ...fields,
    lines,
    total: orderTotal(lines),
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
const withCurrentOrder = async <T>(
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
    throw new StaleDataError(orderView(order, now), {
      changeAlreadyPresent: error.changeAlreadyPresent || (present?.(order) ?? false),
    });
  }
};

/** A refusal found in the order as read carries that order, lines and all. */
const assertOrderAllows = (
  actions: Parameters<typeof assertHeaderAllows>[0],
  order: Aggregate,
  now: Date,
  present: boolean,
): void => {
  try {
    assertHeaderAllows(actions, order.header);
  } catch (error) {
    if (error instanceof StaleDataError) {
      throw new StaleDataError(orderView(order, now), { changeAlreadyPresent: present });
    }
    throw error;
  }
};

const lineItem = (fields: LineFields, seq: string) => ({ ...fields, seq });

/** The version a line write is based on: the caller's, or `*` pinned to the header read. */
const versionOf = (precondition: Precondition, header: StoredItem | undefined): number =>
  precondition.kind === 'version' ? precondition.version : Number(header?.version);

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
): Promise<{ header: PublicRecord; replayed: boolean }> =>
  withCurrentOrder(id, context.now, async () => {
    const { response, replayed } = await writeHeader(
      orderEntity,
      id,
      { precondition, header: mergePatch(patch), allowedStatuses: EDITABLE },
      context,
      (header) => toPublicRecord(header, context.now),
    );
    return { header: response, replayed };
  });

/** `POST /orders/{id}/transitions`: the state machine, with the role each move needs. */
export const transitionOrder = (
  id: string,
  precondition: Precondition,
  to: OrderStatus,
  roles: readonly Role[],
  context: WriteContext,
): Promise<{ header: PublicRecord; replayed: boolean }> => {
  const move = transitions[to];
  if (!move) throw new InvalidStateError(`No order moves to ${to}.`);
  if (!move.roles.some((role) => roles.includes(role))) {
    throw new ForbiddenError(`Moving an order to ${to} needs one of: ${move.roles.join(', ')}.`);
  }
  return withCurrentOrder(id, context.now, async () => {
    const { response, replayed } = await writeHeader(
      orderEntity,
      id,
      { precondition, header: { set: { status: to }, remove: [] }, allowedStatuses: move.from },
      context,
      (header) => toPublicRecord(header, context.now),
    );
    return { header: response, replayed };
  });
};

/**
 * A line write that needs no line read (an add, a removal): the header's version bump and
 * the child write in one transaction. `If-Match: *` reads the header first, to pin the
 * transaction to the version there is, and reads again if it moves.
 */
const writeLinesBlind = <R>(
  id: string,
  precondition: Precondition,
  write: Omit<AggregateWrite, 'precondition' | 'pinned'>,
  context: WriteContext,
  response: (version: number) => R,
) =>
  planAndCommit(
    {
      read: () => (precondition.kind === 'any' ? readHeader(orderEntity, id) : Promise.resolve(undefined)),
      plan: (header) => {
        const version = versionOf(precondition, header);
        const actions = aggregateActions(
          orderEntity,
          id,
          { ...write, precondition: { kind: 'version', version }, pinned: precondition.kind === 'any' },
          context,
        );
        if (precondition.kind === 'any') assertHeaderAllows(actions, header);
        return { actions, response: response(version + 1) };
      },
    },
    context,
  );

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
    const { response, replayed } = await planAndCommit(
      {
        read: () => readAggregate(orderEntity, id, context.now),
        plan: (order) => {
          const version = versionOf(precondition, order.header);
          const before = order.children.find((child) => child.lineId === lineId);
          const children: ChildWrite[] = before ? [{ kind: 'update', childId: lineId, change }] : [];
          const actions = aggregateActions(
            orderEntity,
            id,
            {
              precondition: { kind: 'version', version },
              pinned: precondition.kind === 'any',
              header: noChange,
              children,
              allowedStatuses: EDITABLE,
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
          const after: StoredItem = { ...before, ...change.set };
          for (const field of change.remove) delete after[field];
          return { actions, response: { orderId: id, version: version + 1, line: toPublicChild(after) } };
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
    const { response, replayed } = await planAndCommit(
      {
        read: () => readAggregate(orderEntity, id, context.now),
        plan: (stored) => {
          const version = versionOf(precondition, stored.header);
          const header: Change = {
            set: { customer: input.customer, ...(input.notes === undefined ? {} : { notes: input.notes }) },
            remove: input.notes === undefined ? ['notes'] : [],
          };
          const write = (children: ChildWrite[], count: number): AggregateWrite => ({
            precondition: { kind: 'version', version },
            pinned: precondition.kind === 'any',
            header,
            children,
            allowedStatuses: EDITABLE,
            childCount: { set: count },
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
