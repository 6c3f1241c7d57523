import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../db/client';
import { decodeCursor, encodeCursor } from './cursor';
import { allOf, ExpressionBuilder } from './expression';
import type { TransactItem } from './idempotent-transaction';
import { translateSdkError } from './sdk-errors';
import { type EntitySpec, keyOf, newId } from './versioned-store';

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

/** The Put of a new entry, for the transaction that changes the balance. */
export const entryPut = (entity: EntitySpec, entry: LedgerEntry): TransactItem => {
  const x = new ExpressionBuilder();
  return {
    Put: {
      TableName: tableName(),
      Item: {
        pk: keyOf(entity, entry.accountId).pk,
        sk: `${ENTRY_PREFIX}${entry.createdAt}#${entry.entryId}`,
        ...entry,
      },
      // An entry is written once and never replaced.
      ConditionExpression: allOf([`attribute_not_exists(${x.name('pk')})`]),
      ...x.attributes(),
    },
  };
};

/** An account's entries, newest first, a page at a time, with a consistent Query. */
export const listEntries = async (
  entity: EntitySpec,
  accountId: string,
  options: { limit: number; cursor?: string | undefined },
): Promise<{ items: LedgerEntry[]; nextCursor?: string }> => {
  const pk = keyOf(entity, accountId).pk;
  const startKey = decodeCursor(options.cursor, {
    attributes: ['pk', 'sk'],
    fixed: { pk },
    prefixes: { sk: ENTRY_PREFIX },
  });
  const x = new ExpressionBuilder();
  const { Items, LastEvaluatedKey } = await db()
    .send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: `${x.name('pk')} = ${x.value(pk)} AND begins_with(${x.name('sk')}, ${x.value(ENTRY_PREFIX)})`,
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: options.limit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        ...x.attributes(),
      }),
    )
    .catch(translateSdkError);
  const items = (Items ?? []).map(({ pk: _pk, sk: _sk, ...entry }) => entry as LedgerEntry);
  const nextCursor = encodeCursor(LastEvaluatedKey);
  return { items, ...(nextCursor ? { nextCursor } : {}) };
};
