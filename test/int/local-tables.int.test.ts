import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { tableSpec } from '../../lib/db/table-spec';
import { ensureTable } from '../../lib/local/tables';

const admin = new DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const made: string[] = [];
const newName = () => {
  const name = `tables-${randomUUID()}`;
  made.push(name);
  return name;
};
const streamOf = async (name: string) =>
  (await admin.send(new DescribeTableCommand({ TableName: name }))).Table?.StreamSpecification ?? null;

afterAll(async () => {
  await Promise.all(made.map((name) => admin.send(new DeleteTableCommand({ TableName: name }))));
  admin.destroy();
});

describe('ensureTable, the local table from the spec', () => {
  it("makes the table with the spec's stream (what npm start and the bench's live table read)", async () => {
    const name = newName();
    await ensureTable(admin, name);
    expect(await streamOf(name)).toEqual({ StreamEnabled: true, StreamViewType: tableSpec.stream });
  });

  it('leaves the stream off when asked (the tests that do not read it), and turns it on over the kept table later', async () => {
    const name = newName();
    await ensureTable(admin, name, { stream: false });
    const before = await streamOf(name);
    await ensureTable(admin, name, { stream: false });
    const stillOff = await streamOf(name);
    await ensureTable(admin, name);
    const after = await streamOf(name);
    expect([before?.StreamEnabled ?? false, stillOff?.StreamEnabled ?? false, after]).toEqual([
      false,
      false,
      { StreamEnabled: true, StreamViewType: tableSpec.stream },
    ]);
  });
});
