import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { loadHandler } from '../../functions/index';
import { type ApiClient, createApiClient } from '../../lib/client/api-client';
import type { Role } from '../../lib/domain/roles';
import { attachLive, LIVE_PATH, type LocalLive } from '../../lib/live/local';
import { createLocalServer } from '../../lib/local/server';
import { type LocalTokens, localTokens, newSigningSecret } from '../../lib/local/tokens';
import { contractViolations } from './contract';
import { streamThisTable } from './table';

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as it is, instead of JSON of `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the API answered.
  body: any;
  /** The body as sent, for what JSON.parse would round (numbers past 2^53). */
  text: string;
}

export interface TestApi {
  url: string;
  /** The local signing secret, to forge expired or mis-addressed tokens. */
  secret: Uint8Array;
  tokens: LocalTokens;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  tokenFor(sub: string, ...groups: Role[]): Promise<string>;
  /** The typed client as `token`, its every answer held to the OpenAPI document too. */
  client(token: string, options?: { resendDelayMs?: number; fetch?: typeof fetch }): ApiClient;
  /** The live channel (`useApi({ live: true })`), fed from this file's table's stream. */
  live: LocalLive | undefined;
  /** `ws://…/live`. */
  liveUrl: string;
}

/**
 * A fetch that holds every answer to the document. A violation is also kept in `seen`:
 * thrown from fetch, it looks like a lost answer to the client, which sends the write again,
 * so the test's afterEach fails on it even when a later send was within the contract.
 */
const contractFetch =
  (inner: typeof fetch, seen: string[]): typeof fetch =>
  async (input, init) => {
    const response = await inner(input, init);
    const text = await response.clone().text();
    const url = new URL(String(input));
    const violations = contractViolations(init?.method ?? 'GET', `${url.pathname}${url.search}`, {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    });
    if (violations.length > 0) {
      seen.push(...violations);
      throw new Error(`Answer outside the contract:\n${violations.join('\n')}`);
    }
    return response;
  };

/**
 * The local server (the same code as `npm start`) on a free port for this test file,
 * over the file's own table in DynamoDB Local.
 */
export const useApi = (options: { webRoot?: string; live?: boolean } = {}): TestApi => {
  const secret = newSigningSecret();
  const tokens = localTokens(secret);
  const server = createLocalServer(tokens, loadHandler, options);
  const violationsSeen: string[] = [];
  const api: TestApi = {
    url: '',
    live: undefined,
    liveUrl: '',
    secret,
    tokens,
    tokenFor: (sub, ...groups) => tokens.sign({ sub, groups }),
    client: (token, options = {}) =>
      createApiClient({
        baseUrl: api.url,
        token,
        ...(options.resendDelayMs === undefined ? {} : { resendDelayMs: options.resendDelayMs }),
        fetch: contractFetch(options.fetch ?? ((input, init) => fetch(input, init)), violationsSeen),
      }),
    call: async (method, path, options = {}) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined = options.rawBody;
      if (body === undefined && options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${api.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      const result = {
        status: response.status,
        headers: response.headers,
        body: text ? JSON.parse(text) : undefined,
        text,
      };
      // Every answer a test receives is held to the OpenAPI document.
      const violations = contractViolations(method, path, result);
      if (violations.length > 0) throw new Error(`Answer outside the contract:\n${violations.join('\n')}`);
      return result;
    },
  };
  afterEach(() => {
    const seen = violationsSeen.splice(0);
    if (seen.length > 0) throw new Error(`Answers outside the contract:\n${seen.join('\n')}`);
  });
  beforeAll(async () => {
    if (options.live) {
      await streamThisTable();
      api.live = attachLive(server, {
        tokens,
        endpoint: process.env.DYNAMODB_ENDPOINT ?? '',
        tableName: process.env.TABLE_NAME ?? '',
      });
      await api.live.ready;
    }
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api.liveUrl = `${api.url.replace(/^http/, 'ws')}${LIVE_PATH}`;
  });
  afterAll(async () => {
    await api.live?.stop();
    server.closeAllConnections();
    await new Promise((closed) => server.close(closed));
  });
  return api;
};
