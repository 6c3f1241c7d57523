import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError, parseJson } from '../../lib/client/answers';
import { createApiClient } from '../../lib/client/api-client';
import { SEND_ATTEMPTS } from '../../lib/core/send/send';
import { useApi } from '../support/api';
import { captureErrorLog } from '../support/logs';
import { networkTimeout, withFault } from '../support/sdk';
import { tableSnapshot } from '../support/table';

const api = useApi();
let sales = '';

beforeAll(async () => {
  sales = await api.tokenFor('alice', 'sales');
});

afterEach(() => vi.restoreAllMocks());

describe('the typed client', () => {
  it('gives the ETag and the replay flag with each answer, and 304 as NotModified', async () => {
    const client = api.client(sales);
    const headers = { 'idempotency-key': `client-${Date.now()}` };
    const created = await client.send('POST', '/annotations', { body: { name: 'typed' }, headers });
    const again = await client.send('POST', '/annotations', { body: { name: 'typed' }, headers });
    expect([created.status, created.etag, 'replayed' in created && created.replayed]).toEqual([
      201,
      1,
      false,
    ]);
    expect([again.status, 'replayed' in again && again.replayed]).toEqual([201, true]);
    const id = 'body' in created ? (created.body as { id: string }).id : '';
    const unchanged = await client.send('GET', `/annotations/${id}`, { headers: { 'if-none-match': '"1"' } });
    expect(unchanged).toEqual({ status: 304, notModified: true, etag: 1 });
  });

  it('a conflict is an ApiError with its code, and Retry-After when the server asks to wait', async () => {
    const client = api.client(sales);
    const order = await client.createOrder({ customer: 'Typed' });
    const lock = await api.call('POST', `/orders/${order.id}/lock`, {
      token: await api.tokenFor('bob', 'sales'),
      body: {},
    });
    expect(lock.status).toBe(201);
    const refused = await client
      .patchLine(order.id, 'nope', 1, { quantity: 2 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect([
      (refused as ApiError).status,
      (refused as ApiError).code,
      (refused as ApiError).retryAfter,
    ]).toEqual([423, 'LOCKED', expect.any(Number)]);
  });

  it("API Gateway's own {message} bodies are problems too: 401 UNAUTHENTICATED, 404 NOT_FOUND", async () => {
    const gateway = createServer((request, response) => {
      const status = request.url === '/annotations/x' ? 401 : 404;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: status === 401 ? 'Unauthorized' : 'Not Found' }));
    });
    await new Promise<void>((listening) => gateway.listen(0, '127.0.0.1', listening));
    try {
      const client = createApiClient({
        baseUrl: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`,
        token: 't',
      });
      const unauthorized = (await client.getAnnotation('x').catch((error: unknown) => error)) as ApiError;
      const missing = (await client.getOrder('y').catch((error: unknown) => error)) as ApiError;
      expect([unauthorized.status, unauthorized.code, unauthorized.problem.detail]).toEqual([
        401,
        'UNAUTHENTICATED',
        'Unauthorized',
      ]);
      expect([missing.status, missing.code]).toEqual([404, 'NOT_FOUND']);
    } finally {
      gateway.close();
    }
  });

  it('an order total past 2^53 arrives exact, as a bigint', () => {
    const order = parseJson('{"total":499999500999500001,"version":1}') as { total: bigint; version: number };
    expect([order.total, order.version]).toEqual([499999500999500001n, 1]);
  });

  it('a write answered OUTCOME_UNKNOWN is sent again with the same key: applied once, one record', async () => {
    const client = api.client(sales, { resendDelayMs: 1 });
    const name = `resent-${Date.now()}`;
    const log = captureErrorLog();
    // Every answer of the server's attempts is lost: it answers 503 OUTCOME_UNKNOWN, and the
    // client's repeat with the same key gets the first answer.
    const { result, injected } = await withFault(
      {
        when: (command) => command === 'TransactWriteItemsCommand',
        at: 'after',
        error: networkTimeout,
        layer: 'outside-retries',
        times: SEND_ATTEMPTS,
      },
      () => client.send('POST', '/annotations', { body: { name } }),
    );
    expect([injected, result.status, 'replayed' in result && result.replayed, log.lines()]).toEqual([
      SEND_ATTEMPTS,
      201,
      true,
      [expect.objectContaining({ level: 'error' })],
    ]);
    expect((await tableSnapshot()).filter((item) => item.name === name)).toHaveLength(1);
  });
});
