import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { documentAnswer } from '../lib/contract/served';
import { unroutedAnswer } from '../lib/http/unrouted';

/**
 * The public routes and the API's catch-alls, none of which reads the database:
 * `GET /health` (says the function is up), `GET /openapi.json` (the document as built, gzip,
 * ETag), `ANY <path>` (405 with `Allow` for a method a path does not take) and `$default`
 * (404 for a path the API does not have). No auth on any.
 */
export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
  if (event.routeKey === 'GET /openapi.json') return documentAnswer(event.headers ?? {});
  const unrouted = unroutedAnswer(event.routeKey, event.requestContext?.requestId ?? 'unknown');
  if (unrouted) return unrouted;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'ok' }),
  };
};
