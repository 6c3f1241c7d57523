import { exactInteger, sumOf } from './amounts';

/**
 * What an aggregate's header keeps of its children, by child id, written in the same
 * transaction as each child write: the aggregate version that last wrote the child
 * (CHILD_VERSIONS, matched by the child's own WRITTEN_IN) and, where children have amounts
 * (an order's lines), the child's amount (CHILD_AMOUNTS).
 *
 * The versions let a read tell a whole aggregate from one seen half way through a transaction:
 * a Query is not isolated from transactions, and may see the header after one and a child
 * before it. The amounts let a list show each aggregate's total from headers alone. All of it
 * is bookkeeping: the API shows only the sum of the amounts, as TOTAL.
 */
export const CHILD_VERSIONS = 'childVersions';
export const CHILD_AMOUNTS = 'childAmounts';
/** A child's own record of the aggregate version that last wrote it. */
export const WRITTEN_IN = 'writtenIn';
/** The field that shows the sum of an aggregate's child amounts. */
export const TOTAL = 'total';

/** The exact total of amounts: a header's child amounts (a map by id), or a list of them. */
export const totalOf = (amounts: unknown): unknown =>
  exactInteger(sumOf(Object.values((amounts ?? {}) as Record<string, number>).map(Number)));
