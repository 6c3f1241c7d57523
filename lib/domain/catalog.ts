/**
 * The facts about each resource that the server enforces and the web app shows: which
 * field groups a debtor and an article have and who owns each, how an order holds its lines,
 * and which order states and moves exist and who may make them. Pure data, no imports that need Node: the web app
 * bundles this file as it is, so a rule lives here once for both.
 */

import type { AggregateSpec } from '../core/features/aggregates/spec';
import type { FieldGroupEntity } from '../core/features/field-groups/groups';
import type { Role } from './roles';

/** Debtors: field groups owned by customer relations and finance; `balance` moves only by postings. */
export const debtorEntity: FieldGroupEntity = {
  type: 'DEBTOR',
  fields: ['name', 'street', 'city', 'postalCode', 'country', 'creditLimit', 'paymentTermsDays'],
  search: { field: 'name' },
  groups: {
    profile: { fields: ['name'], owners: ['customer-relations'] },
    address: { fields: ['street', 'city', 'postalCode', 'country'], owners: ['customer-relations'] },
    credit: { fields: ['creditLimit', 'paymentTermsDays'], owners: ['finance'] },
  },
  readOnly: ['balance'],
  required: ['name'],
};

/** Articles: keyed by SKU, field groups owned by four departments; `inStock` moves only by stock movements. */
export const articleEntity: FieldGroupEntity = {
  type: 'ARTICLE',
  fields: [
    'description',
    'salesPrice',
    'vatCode',
    'preferredSupplier',
    'maxPurchasePrice',
    'binLocation',
    'reorderLevel',
  ],
  search: { field: 'description', withId: true },
  groups: {
    basic: { fields: ['description'], owners: ['sales', 'purchasing'] },
    sales: { fields: ['salesPrice', 'vatCode'], owners: ['sales'] },
    purchasing: { fields: ['preferredSupplier', 'maxPurchasePrice'], owners: ['purchasing'] },
    inventory: { fields: ['binLocation', 'reorderLevel'], owners: ['warehouse'] },
  },
  readOnly: ['inStock'],
  required: ['description'],
};

/** Orders: a header and its lines, one versioned aggregate. */
export const orderEntity: AggregateSpec = {
  type: 'ORDER',
  fields: ['customer', 'notes', 'status'],
  search: { field: 'customer' },
  childPrefix: 'LINE#',
  childIdField: 'lineId',
  countField: 'lineCount',
  childName: 'line',
  childrenPointer: '/lines',
  maxChildren: 500,
  statusField: 'status',
  // At most 10^6 × 10^9 = 10^15 a line: exact in a double. The order's total is their exact sum.
  amount: {
    fields: ['quantity', 'unitPrice'],
    of: (line) => Number(line.quantity) * Number(line.unitPrice),
  },
};

export const orderStatuses = ['draft', 'approved', 'shipped', 'cancelled'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

/** Which moves exist, from where, and who may make them. */
export const transitions: Record<OrderStatus, { from: OrderStatus[]; roles: Role[] } | undefined> = {
  draft: undefined,
  approved: { from: ['draft'], roles: ['supervisor'] },
  shipped: { from: ['approved'], roles: ['warehouse'] },
  cancelled: { from: ['draft', 'approved'], roles: ['sales', 'supervisor'] },
};

/** The states in which lines and header may change. */
export const EDITABLE: readonly OrderStatus[] = ['draft'];
