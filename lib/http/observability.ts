import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RequestStats } from '../db/request-stats';
import { metricNames, metricsNamespace, serviceName } from '../observability';
import type { ApiEvent } from './request';
import type { ApiResult } from './response';

// EMF goes to CloudWatch only from Lambda; elsewhere (the local server, tests) the metrics
// would be noise on stdout, unless POWERTOOLS_METRICS_DISABLED says otherwise.
process.env.POWERTOOLS_METRICS_DISABLED ??= process.env.AWS_LAMBDA_FUNCTION_NAME ? 'false' : 'true';

/** The structured logger: one JSON line per request, to stdout (stderr for a 5xx), in Lambda and locally. */
export const logger = new Logger({ serviceName });

/** EMF metrics, flushed at the end of each request that had something to count. */
export const metrics = new Metrics({ namespace: metricsNamespace, serviceName });

/** The answer's problem code, if it is a problem+json answer. */
const problemCode = (result: ApiResult): string | undefined => {
  if (result.statusCode < 400 || !result.body) return undefined;
  try {
    const { code } = JSON.parse(result.body) as { code?: unknown };
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
};

const headerOf = (result: ApiResult, name: string): string | undefined =>
  Object.entries(result.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

/** The version a successful write answered with (its ETag); reads write none. */
const versionWritten = (event: ApiEvent, result: ApiResult): number | undefined => {
  const etag = headerOf(result, 'etag');
  if (event.requestContext?.http?.method === 'GET' || result.statusCode >= 300 || !etag) return undefined;
  const version = Number(etag.replaceAll('"', ''));
  return Number.isInteger(version) ? version : undefined;
};

const subOf = (event: ApiEvent): string | undefined => {
  const sub = (event.requestContext as { authorizer?: { jwt?: { claims?: { sub?: unknown } } } })?.authorizer
    ?.jwt?.claims?.sub;
  return typeof sub === 'string' ? sub : undefined;
};

/** Everything the request's one log line says, in the order an operator reads it. */
export const requestLogFields = (
  event: ApiEvent,
  result: ApiResult,
  stats: RequestStats,
  durationMs: number,
) => {
  const code = problemCode(result);
  const version = versionWritten(event, result);
  return {
    requestId: event.requestContext?.requestId ?? 'unknown',
    route: event.routeKey,
    sub: subOf(event),
    status: result.statusCode,
    ...(code ? { code } : {}),
    ...(version !== undefined ? { versionWritten: version } : {}),
    ...(headerOf(result, 'idempotent-replayed') === 'true' ? { replayed: true } : {}),
    dynamodbRequests: stats.dynamodbRequests,
    ...(stats.contentionRetries > 0 ? { contentionRetries: stats.contentionRetries } : {}),
    ...(stats.throttledAttempts > 0 ? { throttledAttempts: stats.throttledAttempts } : {}),
    durationMs: Math.round(durationMs),
    ...(stats.cause ? { error: stats.cause } : {}),
  };
};

/**
 * Counts what the request met as EMF metrics (dimension `service`; a conflict also by route
 * and code), and publishes them, if any; a request that met nothing publishes nothing.
 */
const countRequest = (fields: ReturnType<typeof requestLogFields>): void => {
  const counts: [string, number][] = [
    [metricNames.replay, fields.replayed ? 1 : 0],
    [metricNames.contentionRetry, fields.contentionRetries ?? 0],
    [metricNames.throttlingRetry, fields.throttledAttempts ?? 0],
    [metricNames.lockRefused, fields.code === 'LOCKED' ? 1 : 0],
    [metricNames.writeContention, fields.code === 'WRITE_CONTENTION' ? 1 : 0],
    [metricNames.throttled, fields.code === 'THROTTLED' ? 1 : 0],
    [metricNames.serverError, fields.status >= 500 ? 1 : 0],
    [metricNames.conflict, fields.status === 409 || fields.status === 412 ? 1 : 0],
  ];
  const met = counts.filter(([, count]) => count > 0);
  if (met.length === 0) return;
  for (const [name, count] of met) metrics.addMetric(name, MetricUnit.Count, count);
  metrics.publishStoredMetrics();
  if (fields.status === 409 || fields.status === 412) {
    const conflict = metrics.singleMetric();
    conflict.addDimension('route', fields.route);
    conflict.addDimension('code', fields.code ?? 'UNKNOWN');
    conflict.addMetric(metricNames.conflict, MetricUnit.Count, 1);
  }
};

/** The request's one structured log line and its metrics. */
export const observeRequest = (
  event: ApiEvent,
  result: ApiResult,
  stats: RequestStats,
  durationMs: number,
): void => {
  const fields = requestLogFields(event, result, stats, durationMs);
  if (fields.status >= 500) logger.error('request', fields);
  else logger.info('request', fields);
  countRequest(fields);
};
