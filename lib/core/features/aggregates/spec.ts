import type { StoredItem } from '../../build/items';
import type { EntitySpec } from '../../build/keys';
import type { Change } from '../../build/records';
import type { Precondition } from '../../build/version';

/** The shapes of an aggregate and of a write to it. */

/** An aggregate: a header record plus children stored in the header's partition. */
export interface AggregateSpec extends EntitySpec {
  /** Sort-key prefix of a child item: `LINE#`. */
  readonly childPrefix: string;
  /** The child attribute holding its id: `lineId`. */
  readonly childIdField: string;
  /** The header attribute counting the children: `lineCount`. */
  readonly countField: string;
  /** What the API calls a child, for messages: `line`. */
  readonly childName: string;
  /** JSON Pointer of the children in a request body, where a 422 for too many points: `/lines`. */
  readonly childrenPointer: string;
  /** Most children one aggregate may have. */
  readonly maxChildren: number;
  /** The header attribute naming the aggregate's state, if writes may depend on it. */
  readonly statusField?: string;
  /**
   * What each child counts towards the aggregate's total (an order line: quantity × unit
   * price, an integer of at most 10^15), and the child fields it is made of. The header
   * keeps every child's amount (kept.ts), written with the child, so a list shows totals from
   * headers alone and a child is added or removed without a read.
   */
  readonly amount?: { readonly fields: readonly string[]; of(child: Record<string, unknown>): number };
}

export type ChildWrite =
  /** A new child; never overwrites. */
  | { kind: 'add'; childId: string; fields: Record<string, unknown> }
  /** Replaces an existing child whole. */
  | { kind: 'replace'; childId: string; fields: Record<string, unknown> }
  /**
   * Changes fields of an existing child. `before` is the child as read (from a whole read,
   * pinned to its version): a change of its amount's fields writes the amount it leaves.
   */
  | { kind: 'update'; childId: string; change: Change; before?: StoredItem }
  /** Removes an existing child. */
  | { kind: 'remove'; childId: string };

/** How a write changes the child count: to a known number, or by a delta (no read needed). */
export type ChildCount = { set: number } | { delta: number };

export interface AggregateWrite {
  precondition: Precondition;
  /** An `If-Match: *` write pinned to the version read: a moved version means read again. */
  pinned?: boolean;
  header: Change;
  children: readonly ChildWrite[];
  /** The header's status must be one of these. */
  allowedStatuses?: readonly string[];
  childCount?: ChildCount;
  /** The aggregate as read (whole), when the write read it. */
  read?: Aggregate;
  /**
   * Writes what the header keeps of every child, from `read` and the child writes (a
   * replacement); also done when the header keeps nothing yet. Otherwise each child write sets
   * or removes its own entries.
   */
  whole?: boolean;
}

export interface Aggregate {
  header: StoredItem;
  children: StoredItem[];
  /**
   * The header keeps children other than the ones stored (written past the API), as a read
   * of one moment showed: the children are the truth, and the next write writes what the
   * header keeps whole.
   */
  keptIsWrong?: boolean;
}
