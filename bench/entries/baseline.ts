import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/** The smallest useful Lambda over the table: one GetCommand. The bundles are measured against it. */
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event: { id: string }) =>
  (
    await client.send(
      new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: event.id, sk: 'RECORD' } }),
    )
  ).Item;
