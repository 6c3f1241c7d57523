import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiEvent } from '../../lib/http/request';
import type { ApiResult } from '../../lib/http/response';
import { apiEvent as event } from '../support/events';
import { captureLines, type LogLine } from '../support/logs';
import { withFault } from '../support/sdk';

/**
 * The annotations handler invoked as Lambda invokes it, with API Gateway payload 2.0 events
 * and no server in between: each request writes exactly one structured log line, and the
 * EMF metrics of what it met, both captured from stdout and stderr.
 */
type Handler = (event: ApiEvent, context: Context) => Promise<ApiResult>;
let handler: Handler;

beforeAll(async () => {
  // What the stack sets in Lambda: metrics on, every request logged.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  ({ handler } = (await import('../../functions/annotations')) as unknown as { handler: Handler });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const context = { awsRequestId: 'aws-request', functionName: 'annotations' } as Context;

/** Invokes the handler, capturing what it writes to stdout and stderr. */
const invoke = async (input: ApiEvent) => {
  const stdout = captureLines(process.stdout);
  const stderr = captureLines(process.stderr);
  const result = await handler(input, context);
  vi.restoreAllMocks();
  const all = [...stdout.lines(), ...stderr.lines()];
  return {
    result,
    logLines: all.filter((line) => line.message === 'request'),
    metricLines: all.filter((line) => line._aws !== undefined),
    other: all.filter((line) => line.message !== 'request' && line._aws === undefined),
    stderrLogLevels: stderr.lines().map((line) => line.level),
  };
};

/** An EMF line reduced to what CloudWatch makes of it: namespace, dimensions and values. */
const emf = (line: LogLine) => {
  const [directive] = line._aws.CloudWatchMetrics as {
    Namespace: string;
    Dimensions: string[][];
    Metrics: { Name: string; Unit: string }[];
  }[];
  return {
    namespace: directive?.Namespace,
    dimensions: Object.fromEntries((directive?.Dimensions.flat() ?? []).map((name) => [name, line[name]])),
    values: Object.fromEntries((directive?.Metrics ?? []).map((metric) => [metric.Name, line[metric.Name]])),
  };
};

const create = async (name: string) => {
  const { result } = await invoke(event('POST /annotations', { path: '/annotations', body: { name } }));
  return JSON.parse(result.body ?? '{}') as { id: string };
};

const baseLine = (input: ApiEvent) => ({
  level: 'INFO',
  message: 'request',
  service: 'no-lost-updates',
  timestamp: expect.any(String),
  sampling_rate: 0,
  requestId: input.requestContext.requestId,
  route: input.routeKey,
  sub: 'olga',
  durationMs: expect.any(Number),
});

describe('one structured log line per request, and its metrics', () => {
  it('a create: one line with status, version written and DynamoDB requests, no metrics', async () => {
    const input = event('POST /annotations', { path: '/annotations', body: { name: 'logged' } });

    const { result, logLines, metricLines, other } = await invoke(input);

    expect(result.statusCode).toBe(201);
    expect(logLines).toEqual([{ ...baseLine(input), status: 201, versionWritten: 1, dynamodbRequests: 1 }]);
    expect([metricLines, other]).toEqual([[], []]);
  });

  it('a stale write: the code in the line, a conflict counted overall and by route and code', async () => {
    const { id } = await create('stale');
    const input = event('PUT /annotations/{id}', {
      path: `/annotations/${id}`,
      id,
      headers: { 'if-match': '"7"' },
      body: { name: 'late' },
    });

    const { result, logLines, metricLines } = await invoke(input);

    expect(result.statusCode).toBe(412);
    expect(logLines).toEqual([{ ...baseLine(input), status: 412, code: 'STALE_DATA', dynamodbRequests: 1 }]);
    expect(metricLines.map(emf)).toEqual([
      { namespace: 'NoLostUpdates', dimensions: { service: 'no-lost-updates' }, values: { Conflict: 1 } },
      {
        namespace: 'NoLostUpdates',
        dimensions: {
          service: 'no-lost-updates',
          route: 'PUT /annotations/{id}',
          code: 'STALE_DATA',
        },
        values: { Conflict: 1 },
      },
    ]);
  });

  it('a replay: flagged in the line and counted', async () => {
    const keyed = () =>
      event('POST /annotations', {
        path: '/annotations',
        headers: { 'idempotency-key': `replay-${randomUUID()}` },
        body: { name: 'once' },
      });
    const first = keyed();
    await invoke(first);
    const again = { ...keyed(), headers: first.headers };

    const { result, logLines, metricLines } = await invoke(again);

    expect(result.statusCode).toBe(201);
    expect(logLines).toEqual([
      { ...baseLine(again), status: 201, versionWritten: 1, replayed: true, dynamodbRequests: 1 },
    ]);
    expect(metricLines.map(emf)).toEqual([
      { namespace: 'NoLostUpdates', dimensions: { service: 'no-lost-updates' }, values: { Replay: 1 } },
    ]);
  });

  it('writes that keep colliding: the retries counted, then WRITE_CONTENTION, a conflict by route and code', async () => {
    const { id } = await create('contended');
    const input = event('PATCH /annotations/{id}', {
      path: `/annotations/${id}`,
      id,
      headers: { 'if-match': '"1"' },
      body: { description: 'busy' },
    });

    const { result: invoked } = await withFault(
      {
        when: (command) => command === 'UpdateItemCommand',
        at: 'before',
        error: () =>
          Object.assign(new Error('Transaction is ongoing for the item'), {
            name: 'TransactionConflictException',
          }),
        layer: 'outside-retries',
      },
      () => invoke(input),
    );

    expect(invoked.result.statusCode).toBe(409);
    expect(invoked.stderrLogLevels).toEqual([]);
    expect(invoked.logLines).toEqual([
      {
        ...baseLine(input),
        status: 409,
        code: 'WRITE_CONTENTION',
        dynamodbRequests: 4,
        contentionRetries: 3,
      },
    ]);
    expect(invoked.metricLines.map(emf)).toEqual([
      {
        namespace: 'NoLostUpdates',
        dimensions: { service: 'no-lost-updates' },
        values: { ContentionRetry: 3, WriteContention: 1, Conflict: 1 },
      },
      {
        namespace: 'NoLostUpdates',
        dimensions: {
          service: 'no-lost-updates',
          route: 'PATCH /annotations/{id}',
          code: 'WRITE_CONTENTION',
        },
        values: { Conflict: 1 },
      },
    ]);
  });

  it('a throttled attempt, retried: counted, and the request succeeds', async () => {
    const { id } = await create('throttled');
    const input = event('GET /annotations/{id}', { path: `/annotations/${id}`, id });

    const { result: invoked } = await withFault(
      {
        when: (command) => command === 'GetItemCommand',
        at: 'before',
        error: () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
        layer: 'inside-retries',
        times: 1,
      },
      () => invoke(input),
    );

    expect(invoked.result.statusCode).toBe(200);
    expect(invoked.logLines).toEqual([
      // The throttled attempt and the one after it: both were sent.
      { ...baseLine(input), status: 200, dynamodbRequests: 2, throttledAttempts: 1 },
    ]);
    expect(invoked.metricLines.map(emf)).toEqual([
      {
        namespace: 'NoLostUpdates',
        dimensions: { service: 'no-lost-updates' },
        values: { ThrottlingRetry: 1 },
      },
    ]);
  });

  it('an internal error: its cause in the line, never in the answer, and a 5xx counted', async () => {
    const input = event('POST /annotations', { path: '/annotations', body: { name: 'lost' } });

    const { result: invoked } = await withFault(
      {
        when: (command) => command === 'PutItemCommand',
        at: 'before',
        // Not a failure of the way there, which is retried: a bug, never sent.
        error: () => new TypeError('socket timed out in a bug of ours'),
        layer: 'outside-retries',
      },
      () => invoke(input),
    );

    expect(invoked.result.statusCode).toBe(500);
    expect(invoked.result.body).not.toContain('socket timed out');
    expect(invoked.logLines).toEqual([
      {
        ...baseLine(input),
        level: 'ERROR',
        status: 500,
        code: 'INTERNAL',
        dynamodbRequests: 1,
        error: expect.stringContaining('TypeError: socket timed out in a bug of ours'),
      },
    ]);
    expect(invoked.metricLines.map(emf)).toEqual([
      { namespace: 'NoLostUpdates', dimensions: { service: 'no-lost-updates' }, values: { ServerError: 1 } },
    ]);
  });
});
