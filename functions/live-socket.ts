import { awsChannel, handleSocket, type SocketEvent } from '../lib/live/aws';

/** The live channel's WebSocket routes (`$connect`, `$disconnect`, `$default`): lib/live/aws.ts. */
export const handler = (event: SocketEvent) => handleSocket(event, awsChannel());
