import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { db } from '../../lib/db/client';
import { isTransient } from '../../lib/db/sdk-errors';
import { tableName } from '../../lib/db/table-name';
import { ensureStream } from '../../lib/local/tables';

/** Turns on the spec's stream for this file's table (made without one), for the files that read it. */
export const streamThisTable = async (): Promise<void> => {
  const admin = new DynamoDBClient({
    endpoint: process.env.DYNAMODB_ENDPOINT,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await ensureStream(admin, tableName());
  } finally {
    admin.destroy();
  }
};

/**
 * A test's own read or setup write, sent again when the connection failed on its way (the
 * SDK retries nothing: the core does, for what the API sends; a test's bookkeeping does here).
 */
export const sendForTest = async <T>(send: () => Promise<T>): Promise<T> => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= 4 || !isTransient(error)) throw error;
    }
  }
};

/** Every item of this test file's table, in key order: to prove a request changed nothing. */
export const tableSnapshot = async (): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const exclusiveStart = start;
    const page = await sendForTest(() =>
      db().send(
        new ScanCommand({
          TableName: tableName(),
          ConsistentRead: true,
          ...(exclusiveStart ? { ExclusiveStartKey: exclusiveStart } : {}),
        }),
      ),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
};
