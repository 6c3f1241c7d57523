import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { openApiDocument } from '../lib/contract/openapi';

/**
 * The public routes: `GET /health` (no database; says the function is up) and
 * `GET /openapi.json` (the OpenAPI document of this API). No auth on either.
 */
export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
  const body = event.routeKey === 'GET /openapi.json' ? openApiDocument() : { status: 'ok' };
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
};
