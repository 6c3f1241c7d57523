/**
 * An item as stored: a record's, an order line's, a ledger entry's, a key's record, with every
 * bookkeeping attribute, as plain JavaScript values. A leaf: every part of the core reads
 * items, so this imports nothing.
 */
export type StoredItem = Record<string, unknown>;
