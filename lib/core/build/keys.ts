import { randomBytes } from 'node:crypto';
import { tableSpec } from '../../db/table-spec';

/** Attribute names of the table's keys and TTL, read from the one table spec. */
export const PK = tableSpec.partitionKey;
export const SK = tableSpec.sortKey;
export const TTL = tableSpec.ttlAttribute;
export const listingIndex = tableSpec.globalIndexes[0];

/** The sort key of a record's own item (an order's header, an account, an annotation). */
export const RECORD_SK = 'RECORD';

/** What the core needs to know of a kind of single-item versioned record. */
export interface EntitySpec {
  /** Key prefix, and the listing index's partition value. */
  readonly type: string;
  /** Every data field a record may have; a full replacement removes the ones it does not give. */
  readonly fields: readonly string[];
  /**
   * The field a list's `q` looks in (and, `withId`, the id too: an article's SKU); a folded
   * copy of it is kept on the item whenever it is written (core/search.ts).
   */
  readonly search?: { readonly field: string; readonly withId?: boolean };
}

export type ItemKey = Record<string, string>;

/** The key of a record's own item. */
export const keyOf = (entity: Pick<EntitySpec, 'type'>, id: string): ItemKey => ({
  [PK]: `${entity.type}#${id}`,
  [SK]: RECORD_SK,
});

/** URL-safe, 22 characters, 128 random bits. */
export const newId = (): string => randomBytes(16).toString('base64url');

export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
