import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { Sender } from './channel';

/**
 * Sends to connections of API Gateway's WebSocket API through its management API
 * (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`): a connection that is gone
 * (closed, or its client vanished) says so, and the channel forgets it.
 */
export const awsSender = (client: ApiGatewayManagementApiClient): Sender => ({
  send: async (connectionId, message) => {
    try {
      await client.send(
        new PostToConnectionCommand({
          ConnectionId: connectionId,
          Data: Buffer.from(JSON.stringify(message)),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof GoneException) return false;
      throw error;
    }
  },
  close: async (connectionId, reason) => {
    try {
      await client.send(
        new PostToConnectionCommand({
          ConnectionId: connectionId,
          Data: Buffer.from(JSON.stringify({ type: 'closing', reason })),
        }),
      );
      await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if (!(error instanceof GoneException)) throw error;
    }
  },
});

/** The management API's client for the endpoint the stack gives (`LIVE_ENDPOINT`). */
export const managementClient = (endpoint: string): ApiGatewayManagementApiClient =>
  new ApiGatewayManagementApiClient({ endpoint });
