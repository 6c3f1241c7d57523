import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { now } from '../clock';
import { noteCause, withRequestStats } from '../db/request-stats';
import { NotFoundError } from '../errors';
import { AppError } from '../problems';
import { type RouteGroup, type RouteSpec, routeKeyOf, routesOf } from '../routes';
import { observeRequest } from './observability';
import { principalOf } from './principal';
import { problemResult } from './problem';
import { type ApiEvent, type ApiRequest, authorize, parseJsonBody } from './request';
import type { ApiResult } from './response';

/** What a route does: parse, one call into lib, answer. */
export type Action = (request: ApiRequest) => Promise<ApiResult>;

/** Per-invocation state, kept on middy's `request.internal` for the middlewares after it. */
interface Internal extends Record<string, unknown> {
  apiRequest?: ApiRequest;
}

type MiddyRequest = middy.Request<ApiEvent, ApiResult, Error, Context, Internal>;

const requestIdOf = (event: ApiEvent): string => event.requestContext?.requestId ?? 'unknown';

/**
 * Resolves the route from API Gateway's `routeKey`, authenticates and authorizes the
 * caller and parses the body, in that order (404, 401, 403, then 413/415/400), then runs
 * the route's action. What a `before` returns is middy's response (its early return), so
 * the request's state lives on `request.internal` and the handler below is never reached.
 */
const prepareRequest = (
  table: Map<string, RouteSpec>,
  dispatch: (request: ApiRequest) => Promise<ApiResult>,
): MiddlewareObj<ApiEvent, ApiResult, Error, Context, Internal> => ({
  before: (request: MiddyRequest) => {
    const { event } = request;
    const route = table.get(event.routeKey);
    if (!route) throw new NotFoundError('No such route.');
    const principal = route.access === 'public' ? { sub: 'anonymous', roles: [] } : principalOf(event);
    authorize(route, principal);
    const apiRequest: ApiRequest = {
      event,
      route,
      principal,
      body: parseJsonBody(event),
      now: now(),
      requestId: requestIdOf(event),
    };
    request.internal.apiRequest = apiRequest;
    return dispatch(apiRequest);
  },
});

/** The one place error responses are written: problem+json for every error. */
const problemResponses = (): MiddlewareObj<ApiEvent, ApiResult, Error, Context, Internal> => ({
  onError: (request: MiddyRequest) => {
    const { error } = request;
    // The cause goes into the request's log line, under its request id, never into the answer.
    if (!(error instanceof AppError)) noteCause(String(error?.stack ?? error));
    request.response = problemResult(error, requestIdOf(request.event));
  },
});

/**
 * The Lambda handler of one function: dispatches its group of the route table, and writes
 * one structured log line and the metrics of each request. Fails at cold start if the
 * actions and the group disagree, so neither can drift.
 */
export const createHandler = (group: RouteGroup, actions: Record<string, Action>) => {
  const table = new Map(routesOf(group).map((route) => [routeKeyOf(route), route]));
  const missing = [...table.keys()].filter((key) => !actions[key]);
  const extra = Object.keys(actions).filter((key) => !table.has(key));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `Routes of ${group.fn} do not match the route table: missing ${missing.join(', ')}; extra ${extra.join(', ')}`,
    );
  }
  const dispatch = (request: ApiRequest): Promise<ApiResult> => {
    const action = actions[request.event.routeKey];
    if (!action) throw new NotFoundError('No such route.');
    return action(request);
  };
  const run = middy<ApiEvent, ApiResult, Error, Context, Internal>()
    .use(problemResponses())
    .use(prepareRequest(table, dispatch))
    .handler(() => {
      throw new Error('Every request is answered by the route middleware.');
    });
  // Around middy, as a route's early answer ends middy's chain: one log line and the
  // metrics of every request, with what it met on its way to DynamoDB.
  return async (event: ApiEvent, context: Context): Promise<ApiResult> => {
    const started = performance.now();
    const { result, stats } = await withRequestStats(() => run(event, context));
    observeRequest(event, result, stats, performance.now() - started);
    return result;
  };
};
