import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeserializeMiddleware, MiddlewareStack } from '@smithy/types';
import { config } from '../config';
import { ATTEMPT_TIMEOUT_MS, note } from './request-stats';
import { isThrottling } from './sdk-errors';

/**
 * How far one attempt got, as seen right beside the wire: never sent; answered by DynamoDB
 * with this HTTP status; or sent with no answer (a timeout, a reset connection).
 */
export type Reach = { sent: false } | { sent: true; status?: number };

let documentClient: DynamoDBDocumentClient | undefined;

/**
 * The DocumentClient, created once per cold start. Its middleware stack is the base
 * client's, which is where tests count requests and inject faults.
 *
 * The SDK retries nothing (`maxAttempts: 1`): every retry is the core's (lib/core/send.ts),
 * which knows what an attempt whose answer was lost may have done, re-sends it in the form
 * that recognises it, and never spends a shared retry quota, which the SDK's own strategy
 * drains with every retry that ends in a failed condition and never refunds.
 */
export const db = (): DynamoDBDocumentClient => {
  if (documentClient) return documentClient;
  const { AWS_REGION, DYNAMODB_ENDPOINT } = config;
  const base = new DynamoDBClient({
    region: AWS_REGION,
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: ATTEMPT_TIMEOUT_MS,
      connectionTimeout: 1000,
      // Locally one process serves every request at once (a Lambda serves one), so its
      // pool to DynamoDB Local is sized for many requests in flight.
      ...(DYNAMODB_ENDPOINT ? { httpAgent: { keepAlive: true, maxSockets: 256 } } : {}),
    },
    ...(DYNAMODB_ENDPOINT
      ? { endpoint: DYNAMODB_ENDPOINT, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  // Counted for the request's log line: each attempt DynamoDB throttled (the requests
  // themselves are counted where they are sent, once each: lib/core/send.ts).
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

/** The commands lib sends. */
export type Command =
  | GetCommand
  | QueryCommand
  | PutCommand
  | UpdateCommand
  | DeleteCommand
  | TransactWriteCommand
  | TransactGetCommand;

/** One attempt of a command: what it answered, or its error with how far it got. */
export type Attempted<O> = { ok: true; output: O } | { ok: false; error: unknown; reach: Reach };

/**
 * Sends `command` once (the SDK retries nothing) and says how far it got. The one place that
 * sends to DynamoDB.
 */
export const sendAttempt = async <O>(command: Command): Promise<Attempted<O>> => {
  const attempt: { reach: Reach } = { reach: { sent: false } };
  // Beside the wire, below every other middleware (the client's faults and counters
  // included): whether this attempt left, and what DynamoDB answered, whatever happens to
  // the answer on its way back up. On the command, for this attempt alone.
  const stack = command.middlewareStack as unknown as MiddlewareStack<object, object>;
  const observe: DeserializeMiddleware<object, object> = (next) => async (args) => {
    attempt.reach = { sent: true };
    const output = await next(args);
    const status = (output.response as { statusCode?: number } | undefined)?.statusCode;
    if (status !== undefined) attempt.reach = { sent: true, status };
    return output;
  };
  stack.add(observe, { step: 'deserialize', priority: 'low' });
  try {
    const output = (await db().send(command as never)) as O;
    return { ok: true, output };
  } catch (error) {
    return { ok: false, error, reach: attempt.reach };
  } finally {
    stack.remove(observe);
  }
};
