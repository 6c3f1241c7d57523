import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { tableSpec } from '../db/table-spec';

/**
 * Creates the table from the same spec CDK deploys, unless it exists already (a restart
 * over kept data, whose table gets the spec's stream if it was made before it had one).
 * Only for DynamoDB Local: the deployed table belongs to CDK.
 *
 * `stream: false` leaves the stream off, for tables nobody reads the stream of (the tests
 * that do not use the live channel): DynamoDB Local slows down as stream records pile up in
 * it, across all its tables (every write about 45 times slower after 32,000 streamed writes,
 * measured here), which a whole test run reaches. The stream changes nothing about writes.
 */
export const ensureTable = async (
  client: DynamoDBClient,
  tableName: string,
  { stream = true }: { stream?: boolean } = {},
): Promise<void> => {
  const keyAttributes = [
    tableSpec.partitionKey,
    tableSpec.sortKey,
    ...tableSpec.globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: tableSpec.partitionKey, KeyType: 'HASH' },
          { AttributeName: tableSpec.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: tableSpec.globalIndexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: tableSpec.stream } } : {}),
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return stream ? ensureStream(client, tableName) : undefined;
    throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: tableSpec.ttlAttribute, Enabled: true },
    }),
  );
};

/** The spec's stream on a table that was made without one (data kept from an earlier release, a test's table). */
export const ensureStream = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (Table?.StreamSpecification?.StreamEnabled) return;
  await client.send(
    new UpdateTableCommand({
      TableName: tableName,
      StreamSpecification: { StreamEnabled: true, StreamViewType: tableSpec.stream },
    }),
  );
};
