import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { principalOfClaims } from '../http/principal';
import type { LocalTokens } from '../local/tokens';
import { type Channel, createChannel, type Sender } from './channel';
import { eventsOf } from './events';
import { memoryStore } from './memory-store';
import { CLOSE_TOKEN_EXPIRED, type LiveEvent, type ServerMessage } from './protocol';
import { readStream } from './stream-reader';

/** Where the local server takes live connections: `ws://<host>/live?token=<JWT>`. */
export const LIVE_PATH = '/live';

/** How often the server pings each socket; one that has not answered the last ping by the next is dropped. */
const PING_MS = 10_000;
/** The largest message a client may send (the protocol's are a few hundred bytes). */
const MAX_MESSAGE_BYTES = 64 * 1024;

export interface LocalLive {
  channel: Channel;
  /** Resolves once the stream is being read: every change from now on reaches subscribers. */
  ready: Promise<void>;
  /** How many sockets are open now. */
  connections(): number;
  /** Hears the events of each batch once they are published (tests wait for them). */
  onPublished(listener: (events: readonly LiveEvent[]) => void): () => void;
  /**
   * Cuts the channel, for tests of the fallback: every socket is closed and new ones are
   * refused (503) until `resume`.
   */
  suspend(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface LocalLiveOptions {
  tokens: LocalTokens;
  /** DynamoDB Local's endpoint and the table whose stream is read. */
  endpoint: string;
  tableName: string;
}

const refuse = (socket: Duplex, status: number, reason: string): void => {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(reason)}\r\nconnection: close\r\n\r\n${reason}`,
  );
};

/**
 * The live channel of the local server: WebSockets at `/live` on the same port, verified with
 * the same tokens as the API, fed from DynamoDB Local's stream of the table. A separate
 * listener on the server's `upgrade` event: the API's routing never sees these requests.
 */
export const attachLive = (server: Server, options: LocalLiveOptions): LocalLive => {
  const sockets = new Map<string, WebSocket>();
  const sender: Sender = {
    send: async (connectionId, message: ServerMessage) => {
      const socket = sockets.get(connectionId);
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    close: async (connectionId, reason) => {
      const socket = sockets.get(connectionId);
      if (!socket) return;
      socket.send(JSON.stringify({ type: 'closing', reason } satisfies ServerMessage));
      socket.close(CLOSE_TOKEN_EXPIRED, 'token expired');
    },
  };
  const channel = createChannel(memoryStore(), sender);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let suspended = false;

  const accept = (socket: WebSocket, claims: Record<string, unknown>) => {
    const principal = principalOfClaims(claims);
    const connectionId = randomUUID();
    const expiresAt = Number(claims.exp ?? 0) * 1000;
    sockets.set(connectionId, socket);
    // Work on one socket is done in the order its messages came.
    let queue = channel.connect({ connectionId, sub: principal.sub, roles: principal.roles, expiresAt });
    const then = (work: () => Promise<void>) => {
      queue = queue.then(work).catch(() => undefined);
    };
    let answered = true;
    socket.on('pong', () => {
      answered = true;
    });
    const pinger = setInterval(() => {
      if (!answered) return socket.terminate();
      answered = false;
      socket.ping();
    }, PING_MS);
    const expiry = setTimeout(
      () => void sender.close(connectionId, 'The token has expired: connect again with a fresh one.'),
      Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)),
    );
    socket.on('message', (data) => then(() => channel.receive(connectionId, data.toString())));
    socket.on('close', () => {
      clearInterval(pinger);
      clearTimeout(expiry);
      sockets.delete(connectionId);
      then(() => channel.disconnect(connectionId));
    });
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== LIVE_PATH) return refuse(socket, 404, 'Not Found');
    if (suspended) return refuse(socket, 503, 'Service Unavailable');
    const token = url.searchParams.get('token') ?? '';
    options.tokens.verify(token).then(
      (verified) => {
        if ('refused' in verified) return refuse(socket, 401, 'Unauthorized');
        wss.handleUpgrade(request, socket, head, (ws) => {
          try {
            accept(ws, verified.claims);
          } catch {
            ws.close(CLOSE_TOKEN_EXPIRED, 'unauthenticated');
          }
        });
      },
      () => refuse(socket, 401, 'Unauthorized'),
    );
  };
  server.on('upgrade', onUpgrade);

  const published = new Set<(events: readonly LiveEvent[]) => void>();
  const reader = readStream({
    endpoint: options.endpoint,
    tableName: options.tableName,
    onRecords: async (records) => {
      const events = eventsOf(records, new Date().toISOString());
      await channel.publish(events);
      for (const listener of published) listener(events);
    },
  });

  const closeAll = () => {
    for (const socket of sockets.values()) socket.terminate();
  };
  return {
    channel,
    ready: reader.ready,
    connections: () => sockets.size,
    onPublished: (listener) => {
      published.add(listener);
      return () => {
        published.delete(listener);
      };
    },
    suspend: () => {
      suspended = true;
      closeAll();
    },
    resume: () => {
      suspended = false;
    },
    stop: async () => {
      server.off('upgrade', onUpgrade);
      closeAll();
      wss.close();
      await reader.stop();
    },
  };
};
