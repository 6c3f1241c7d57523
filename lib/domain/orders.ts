import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import {
  type Aggregate,
  type AggregateSpec,
  type ChildWrite,
  childSeq,
  createAggregate,
  inAddedOrder,
  readAggregate,
  readChild,
  toPublicChild,
  writeAggregate,
  writeHeader,
} from '../core/aggregate';
import { idFromKey, markerMatch } from '../core/idempotency';
import { assertNotLockedOut } from '../core/lease-guard';
import type { StoredItem } from '../core/sdk-errors';
import {
  type Change,
  changeIsPresent,
  getRecord,
  listRecords,
  mergePatch,
  newId,
  type Page,
  type Precondition,
  type PublicRecord,
  toPublicRecord,
  type WriteContext,
} from '../core/versioned-store';
import {
  ForbiddenError,
  IdempotencyKeyReusedError,
  InvalidStateError,
  NotFoundError,
  StaleDataError,
  ValidationError,
  WriteContentionError,
} from '../errors';
import type { Role } from './roles';

/** Orders: a header and its lines, one versioned aggregate (API.md §2 "Orders"). */
export const orderEntity: AggregateSpec = {
  type: 'ORDER',
  fields: ['customer', 'notes', 'status'],
  maxChildren: 500,
  statusField: 'status',
};

export const orderStatuses = ['draft', 'approved', 'shipped', 'cancelled'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

const version = z.int().min(1);
const customer = z.string().min(1).max(200);
const notes = z.string().max(2000);
const lineFields = {
  sku: z.string().min(1).max(64),
  description: z.string().max(500).optional(),
  quantity: z.int().min(1).max(1_000_000),
  unitPrice: z.int().min(0).max(1_000_000_000),
};
const newLineSchema = z.strictObject(lineFields);
type LineFields = z.infer<typeof newLineSchema>;

const nonEmpty = (value: Record<string, unknown>) => Object.keys(value).some((key) => key !== 'version');

export const createOrderSchema = z.strictObject({
  customer,
  notes: notes.optional(),
  lines: z.array(newLineSchema).max(99).optional(),
});

export const replaceOrderSchema = z.strictObject({
  customer,
  notes: notes.optional(),
  lines: z
    .array(z.strictObject({ lineId: z.string().min(1).max(64).optional(), ...lineFields }))
    .max(orderEntity.maxChildren)
    .superRefine((lines, ctx) => {
      const seen = new Set<string>();
      lines.forEach((line, index) => {
        if (line.lineId === undefined) return;
        if (seen.has(line.lineId))
          ctx.addIssue({ code: 'custom', path: [index, 'lineId'], message: 'Duplicate lineId.' });
        seen.add(line.lineId);
      });
    }),
  version: version.optional(),
});

export const patchOrderSchema = z
  .strictObject({
    customer: customer.optional(),
    notes: notes.nullable().optional(),
    version: version.optional(),
  })
  .refine(nonEmpty, { message: 'The patch changes no field.' });

export const addLineSchema = newLineSchema.extend({ version: version.optional() });

export const patchLineSchema = z
  .strictObject({
    sku: lineFields.sku.optional(),
    description: z.string().max(500).nullable().optional(),
    quantity: lineFields.quantity.optional(),
    unitPrice: lineFields.unitPrice.optional(),
    version: version.optional(),
  })
  .refine(nonEmpty, { message: 'The patch changes no field.' });

export const transitionSchema = z.strictObject({ to: z.enum(orderStatuses), version: version.optional() });

/** Which moves exist, from where, and who may make them. */
const transitions: Record<OrderStatus, { from: OrderStatus[]; roles: Role[] } | undefined> = {
  draft: undefined,
  approved: { from: ['draft'], roles: ['supervisor'] },
  shipped: { from: ['approved'], roles: ['warehouse'] },
  cancelled: { from: ['draft', 'approved'], roles: ['sales', 'supervisor'] },
};

const EDITABLE: readonly OrderStatus[] = ['draft'];

export interface OrderLine extends LineFields {
  lineId: string;
}

// Node 22 (the Lambda runtime) has JSON.rawJSON; TypeScript's ES2023 lib does not declare it.
const rawJson = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * The exact sum of quantity × unitPrice. 500 lines at API.md's limits reach 5e17, past
 * the integers a double holds exactly, so the sum is taken in BigInt and, past 2^53,
 * written as its exact digits rather than rounded.
 */
const orderTotal = (lines: readonly { quantity: number; unitPrice: number }[]): unknown => {
  const total = lines.reduce((sum, line) => sum + BigInt(line.quantity) * BigInt(line.unitPrice), 0n);
  if (total <= BigInt(Number.MAX_SAFE_INTEGER) || !rawJson) return Number(total);
  return rawJson(total.toString());
};

/** The order as the API shows it: header, lines in the order they were added, total. */
export const orderView = ({ header, children }: Aggregate, now = new Date()): PublicRecord => {
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

/** Attempts of an `If-Match: *` order write whose pinned version keeps moving. */
const OVERWRITE_ATTEMPTS = 4;

/**
 * A stale order answer carries the whole current order: one more Query for its lines
 * (API.md §4). `If-Match: *` is pinned to a version it read; a write that slipped in since
 * is no conflict for it, so it runs again, then answers WRITE_CONTENTION.
 */
const withCurrentOrder = async <T>(
  id: string,
  precondition: Precondition,
  write: () => Promise<T>,
): Promise<T> => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof StaleDataError)) throw error;
      if (precondition.kind === 'any') {
        if (attempt < OVERWRITE_ATTEMPTS) continue;
        throw new WriteContentionError(1);
      }
      throw new StaleDataError(orderView(await readAggregate(orderEntity, id)));
    }
  }
};

/** Transactions return nothing, so `If-Match: *` is pinned to the version there is now. */
const concreteVersion = async (id: string, precondition: Precondition): Promise<number> =>
  precondition.kind === 'version' ? precondition.version : (await getRecord(orderEntity, id)).version;

const lineItem = (fields: LineFields, seq: string) => ({ ...fields, seq });

export const createOrder = async (
  input: z.infer<typeof createOrderSchema>,
  context: WriteContext,
): Promise<{ order: PublicRecord; replayed: boolean }> => {
  const { lines = [], ...fields } = input;
  const children = lines.map((line, index) => ({
    childId: newId(),
    fields: lineItem(line, childSeq(context.now, index)),
  }));
  const { header, replayed } = await createAggregate(
    orderEntity,
    { ...fields, status: 'draft' },
    children,
    context,
  );
  const id = String(header.id);
  if (replayed) return { order: orderView(await readAggregate(orderEntity, id)), replayed };
  const stored = children.map((child) => ({ lineId: child.childId, ...child.fields }));
  return { order: orderView({ header, children: stored }, context.now), replayed };
};

export const getOrder = async (id: string): Promise<PublicRecord> =>
  orderView(await readAggregate(orderEntity, id));

export const listOrders = (options: { limit: number; cursor?: string | undefined }): Promise<Page> =>
  listRecords(orderEntity, {
    limit: options.limit,
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  });

const headerView = (header: StoredItem): PublicRecord => toPublicRecord(header);

/** `PATCH /orders/{id}`: header fields only, while draft; answers the header. */
export const patchOrder = (
  id: string,
  precondition: Precondition,
  patch: { customer?: string | undefined; notes?: string | null | undefined },
  context: WriteContext,
): Promise<{ header: PublicRecord; replayed: boolean }> =>
  withCurrentOrder(id, precondition, async () => {
    const change = mergePatch(patch);
    const result = await writeHeader(
      orderEntity,
      id,
      precondition,
      { header: change, allowedStatuses: EDITABLE },
      context,
    );
    return { header: headerView(result.header ?? {}), replayed: result.replayed };
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
  return withCurrentOrder(id, precondition, async () => {
    const result = await writeHeader(
      orderEntity,
      id,
      precondition,
      { header: { set: { status: to }, remove: [] }, allowedStatuses: move.from },
      context,
    );
    return { header: headerView(result.header ?? {}), replayed: result.replayed };
  });
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
  withCurrentOrder(id, precondition, async () => {
    // A keyed add derives the line id from the key, so its replay can find the line it added.
    const lineId = context.idempotency ? idFromKey(context.idempotency.keyHash) : newId();
    const result = await writeAggregate(
      orderEntity,
      id,
      {
        version: await concreteVersion(id, precondition),
        header: { set: {}, remove: [] },
        children: [{ kind: 'add', childId: lineId, fields: lineItem(line, childSeq(context.now, 0)) }],
        allowedStatuses: EDITABLE,
        childCount: { delta: 1 },
      },
      context,
    );
    const stored = result.replayed ? await readChild(orderEntity, id, lineId) : { lineId, ...line };
    return {
      body: { orderId: id, version: result.version, line: toPublicChild(stored) },
      replayed: result.replayed,
    };
  });

/**
 * `PATCH /orders/{id}/lines/{lineId}`: reads the order (header and lines, one Query), then
 * writes the merge patch and the header bump in one transaction that also requires the line
 * to be as read, so the answer's line is exact. Reading header and line together pins
 * `If-Match: *` to the version the line was read at, and tells a line removed since the
 * caller's read (stale: 412/409 with the order) from one that never was (404).
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
}> =>
  withCurrentOrder(id, precondition, async () => {
    const order = await readAggregate(orderEntity, id);
    const current = Number(order.header.version);
    const version = precondition.kind === 'version' ? precondition.version : current;
    const before = order.children.find((child) => child.lineId === lineId);
    const change = mergePatch(patch);
    const answer = (line: StoredItem, replayed: boolean) => ({
      body: { orderId: id, version: current, line: toPublicChild(line) },
      replayed,
    });
    const match = markerMatch(order.header, context.idempotency, context.now);
    if (match === 'replay') return answer(before ?? { lineId }, true);
    if (match === 'reused') throw new IdempotencyKeyReusedError();
    assertNotLockedOut(order.header, context);
    if (!before) {
      if (version !== current) throw new StaleDataError(orderView(order));
      throw new NotFoundError('No such line.');
    }
    // Already applied: a stale request whose change the line holds changes nothing.
    if (version < current && changeIsPresent(before, change)) return answer(before, false);
    const expect = Object.fromEntries(Object.keys(patch).map((field) => [field, before[field]]));
    const result = await writeAggregate(
      orderEntity,
      id,
      {
        version,
        header: { set: {}, remove: [] },
        children: [{ kind: 'update', childId: lineId, change, expect }],
        allowedStatuses: EDITABLE,
      },
      context,
    );
    const after = result.replayed ? await readChild(orderEntity, id, lineId) : { ...before, ...change.set };
    for (const field of result.replayed ? [] : change.remove) delete after[field];
    return {
      body: { orderId: id, version: result.version, line: toPublicChild(after) },
      replayed: result.replayed,
    };
  });

/** `DELETE /orders/{id}/lines/{lineId}`: the line's removal and the header bump, one transaction. */
export const removeLine = (
  id: string,
  lineId: string,
  precondition: Precondition,
  context: WriteContext,
): Promise<{ body: { orderId: string; version: number }; replayed: boolean }> =>
  withCurrentOrder(id, precondition, async () => {
    const result = await writeAggregate(
      orderEntity,
      id,
      {
        version: await concreteVersion(id, precondition),
        header: { set: {}, remove: [] },
        children: [{ kind: 'remove', childId: lineId }],
        allowedStatuses: EDITABLE,
        childCount: { delta: -1 },
      },
      context,
    );
    return { body: { orderId: id, version: result.version }, replayed: result.replayed };
  }).catch((error: unknown) => {
    // Already applied: a stale removal of a line the current order no longer has changes
    // nothing. (A line that never was cannot be told from one removed since: also 200.)
    if (!(error instanceof StaleDataError) || precondition.kind !== 'version') throw error;
    const { lines, version } = error.current as { lines: OrderLine[]; version: number };
    if (precondition.version > version || lines.some((line) => line.lineId === lineId)) throw error;
    return { body: { orderId: id, version }, replayed: false };
  });

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
  withCurrentOrder(id, precondition, async () => {
    const stored = await readAggregate(orderEntity, id);
    const current = Number(stored.header.version);
    // What the write's own condition would decide, decided from the read: replay, lock, stale.
    const match = markerMatch(stored.header, context.idempotency, context.now);
    if (match === 'replay') return { order: orderView(stored), replayed: true };
    if (match === 'reused') throw new IdempotencyKeyReusedError();
    assertNotLockedOut(stored.header, context);
    if (precondition.kind === 'version' && precondition.version !== current) {
      throw new StaleDataError(orderView(stored));
    }
    if (!EDITABLE.includes(stored.header.status as OrderStatus)) {
      throw new InvalidStateError(`Not allowed while the order is ${String(stored.header.status)}.`, {
        state: stored.header.status,
      });
    }
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

    const header: Change = {
      set: { customer: input.customer, ...(input.notes === undefined ? {} : { notes: input.notes }) },
      remove: input.notes === undefined ? ['notes'] : [],
    };
    const result = await writeAggregate(
      orderEntity,
      id,
      {
        version: current,
        header,
        children: writes,
        allowedStatuses: EDITABLE,
        childCount: { set: finalLines.length },
      },
      context,
    );
    if (result.replayed) return { order: orderView(await readAggregate(orderEntity, id)), replayed: true };
    const { notes: _notes, ...headerBefore } = stored.header;
    const headerAfter: StoredItem = {
      ...headerBefore,
      ...header.set,
      version: result.version,
      updatedAt: context.now.toISOString(),
      updatedBy: context.actor,
    };
    return { order: orderView({ header: headerAfter, children: finalLines }, context.now), replayed: false };
  });
