import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { tableSpec } from '../db/table-spec';

/**
 * Creates the table from the same spec CDK deploys, unless it exists already (a restart
 * over kept data). Only for DynamoDB Local: the deployed table belongs to CDK.
 */
export const ensureTable = async (client: DynamoDBClient, tableName: string): Promise<void> => {
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
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return;
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
