import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config';
import { isThrottling } from '../core/sdk-errors';
import { note } from './request-stats';

let documentClient: DynamoDBDocumentClient | undefined;

/**
 * The DocumentClient, created once per cold start. Its middleware stack is the base
 * client's, which is where tests count requests and inject faults.
 */
export const db = (): DynamoDBDocumentClient => {
  if (documentClient) return documentClient;
  const { AWS_REGION, DYNAMODB_ENDPOINT } = config;
  const base = new DynamoDBClient({
    region: AWS_REGION,
    maxAttempts: 4,
    ...(DYNAMODB_ENDPOINT
      ? {
          endpoint: DYNAMODB_ENDPOINT,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          // Locally one process serves every request at once (a Lambda serves one), so its
          // pool to DynamoDB Local is sized for many requests in flight.
          requestHandler: { httpAgent: { keepAlive: true, maxSockets: 256 } },
        }
      : {}),
  });
  // Counted for the request's log line: each command once (outside the SDK's retries), and
  // each attempt DynamoDB throttled (inside them, where each attempt passes).
  base.middlewareStack.add(
    (next) => async (args) => {
      note('dynamodbRequests');
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  base.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (isThrottling(error)) note('throttledAttempts');
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'countThrottledAttempts' },
  );
  documentClient = DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return documentClient;
};

export const tableName = (): string => config.TABLE_NAME;
