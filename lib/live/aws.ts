import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { principalOfClaims } from '../http/principal';
import { awsSender, managementClient } from './aws-sender';
import { type Channel, createChannel } from './channel';
import { dynamoStore } from './dynamo-store';

/**
 * The live channel in AWS: its state in the connections table (`CONNECTIONS_TABLE`), its
 * messages through API Gateway's management API (`LIVE_ENDPOINT`). Made once per cold start.
 */
let channel: Channel | undefined;
export const awsChannel = (): Channel => {
  channel ??= createChannel(
    dynamoStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), process.env.CONNECTIONS_TABLE ?? ''),
    awsSender(managementClient(process.env.LIVE_ENDPOINT ?? '')),
  );
  return channel;
};

/** A WebSocket route's event, with what the `$connect` authorizer passed on. */
export type SocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: { authorizer?: Record<string, string | number | undefined> };
};

/** The claims the authorizer passed on, as the API would have read them from the token. */
const claimsOf = (context: Record<string, string | number | undefined> = {}) => ({
  sub: context.sub,
  groups: JSON.parse(String(context.groups ?? 'null')) as unknown,
  'cognito:groups': JSON.parse(String(context.cognitoGroups ?? 'null')) as unknown,
});

/**
 * The WebSocket routes: `$connect` (after the authorizer let the token in) keeps the
 * connection as its caller, until the token expires; `$disconnect` forgets it and tells the
 * others on the records it had open; `$default` is every message a client sends.
 */
export const handleSocket = async (event: SocketEvent, live: Channel): Promise<{ statusCode: number }> => {
  const { routeKey, connectionId } = event.requestContext;
  if (routeKey === '$connect') {
    const context = event.requestContext.authorizer;
    const principal = principalOfClaims(claimsOf(context));
    await live.connect({
      connectionId,
      sub: principal.sub,
      roles: principal.roles,
      expiresAt: Number(context?.exp ?? 0) * 1000,
    });
  } else if (routeKey === '$disconnect') await live.disconnect(connectionId);
  else await live.receive(connectionId, event.body ?? '');
  return { statusCode: 200 };
};
