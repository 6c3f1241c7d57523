import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { db } from '../../lib/db/client';
import { tableName } from '../../lib/db/table-name';

/** Every item of this test file's table, in key order: to prove a request changed nothing. */
export const tableSnapshot = async (): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new ScanCommand({
        TableName: tableName(),
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
};
