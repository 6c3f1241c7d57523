import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadHandler } from '../functions/index';
import type { Role } from '../lib/domain/roles';
import { attachLive, LIVE_PATH, type LocalLive } from '../lib/live/local';
import { createLocalServer } from '../lib/local/server';
import { ensureStream } from '../lib/local/tables';
import { localTokens, newSigningSecret } from '../lib/local/tokens';

export interface BenchServer {
  url: string;
  /**
   * Turns on the bench table's stream and the live channel it feeds, and gives its address
   * (`ws://…/live`). Only for the last table: DynamoDB Local slows down as stream records
   * pile up (lib/local/tables.ts), which would weigh on every figure measured after.
   */
  startLive(): Promise<string>;
  tokenFor(sub: string, ...groups: Role[]): Promise<string>;
  /** One request as sent, no key added: the keyless routes the typed client never sends. */
  call(
    token: string,
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** The local server (the code `npm start` runs) in this process on a free port, over the bench's table. */
export const startServer = async (): Promise<BenchServer> => {
  const tokens = localTokens(newSigningSecret());
  const server = createLocalServer(tokens, loadHandler);
  let live: LocalLive | undefined;
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokenFor = (sub: string, ...groups: Role[]) => tokens.sign({ sub, groups });
  return {
    url,
    startLive: async () => {
      const endpoint = process.env.DYNAMODB_ENDPOINT ?? '';
      const tableName = process.env.TABLE_NAME ?? '';
      const admin = new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      try {
        await ensureStream(admin, tableName);
      } finally {
        admin.destroy();
      }
      live ??= attachLive(server, { tokens, endpoint, tableName });
      await live.ready;
      return `${url.replace(/^http/, 'ws')}${LIVE_PATH}`;
    },
    tokenFor,
    call: async (token, method, path, options = {}) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : {} };
    },
    close: async () => {
      await live?.stop();
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
    },
  };
};
