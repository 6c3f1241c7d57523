import { tableName } from '../../../db/table-name';
import { decodeCursor, encodeCursor } from '../../build/cursor';
import { ExpressionBuilder } from '../../build/expression';
import { type EntitySpec, keyOf, newId, PK, SK } from '../../build/keys';
import { conditionOf, type Rule } from '../../build/rules';
import { pagedQuery } from '../../send/reads';
import type { WriteAction } from '../../send/writes';

/**
 * Ledger entries: immutable items in their account's partition, written only in the same
 * transaction as the balance change they record, so the balance always equals their sum.
 * Their sort key starts with the time, so one Query lists them newest first.
 */
export interface LedgerEntry {
  entryId: string;
  accountId: string;
  /** Signed, in minor units: what the entry did to the balance. */
  amount: number;
  kind: string;
  createdAt: string;
  createdBy: string;
  [detail: string]: unknown;
}

const ENTRY_PREFIX = 'ENTRY#';

export const newEntry = (
  accountId: string,
  fields: { amount: number; kind: string } & Record<string, unknown>,
  context: { actor: string; now: Date },
): LedgerEntry => ({
  entryId: newId(),
  accountId,
  ...fields,
  createdAt: context.now.toISOString(),
  createdBy: context.actor,
});

/** An entry is written once and never replaced; its id is new, so a clash is a bug, not a conflict. */
const entryNew: Rule = {
  clause: (x) => `attribute_not_exists(${x.name(PK)})`,
  broken: (item) => (item ? new Error('A new ledger entry met an existing item.') : undefined),
};

/** The Put of a new entry, for the transaction that changes the balance. */
export const entryPut = (entity: EntitySpec, entry: LedgerEntry): WriteAction => {
  const x = new ExpressionBuilder();
  return {
    request: {
      Put: {
        TableName: tableName(),
        Item: {
          [PK]: keyOf(entity, entry.accountId)[PK],
          [SK]: `${ENTRY_PREFIX}${entry.createdAt}#${entry.entryId}`,
          ...entry,
        },
        ConditionExpression: conditionOf(x, [entryNew]),
        ...x.attributes(),
      },
    },
    rules: [entryNew],
  };
};

/** An account's entries, newest first, a page at a time, with a consistent Query. */
export const listEntries = async (
  entity: EntitySpec,
  accountId: string,
  options: { limit: number; cursor?: string | undefined },
): Promise<{ items: LedgerEntry[]; nextCursor?: string }> => {
  const pk = keyOf(entity, accountId)[PK] as string;
  const x = new ExpressionBuilder();
  const { items, next } = await pagedQuery(
    {
      TableName: tableName(),
      KeyConditionExpression: `${x.name(PK)} = ${x.value(pk)} AND begins_with(${x.name(SK)}, ${x.value(ENTRY_PREFIX)})`,
      ScanIndexForward: false,
      ConsistentRead: true,
      ...x.attributes(),
    },
    {
      start: decodeCursor(options.cursor, {
        attributes: [PK, SK],
        fixed: { [PK]: pk },
        prefixes: { [SK]: ENTRY_PREFIX },
      }),
      limit: options.limit,
      keyAfter: ({ [PK]: pkValue, [SK]: skValue }) => ({ [PK]: pkValue, [SK]: skValue }),
    },
  );
  const nextCursor = encodeCursor(next);
  return {
    items: items.map(({ [PK]: _pk, [SK]: _sk, ...entry }) => entry as LedgerEntry),
    ...(nextCursor ? { nextCursor } : {}),
  };
};
