import type { APIGatewayProxyResultV2 } from 'aws-lambda';

/** `GET /health`: no auth, no database; says the function is up. */
export const handler = async (): Promise<APIGatewayProxyResultV2> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ status: 'ok' }),
});
