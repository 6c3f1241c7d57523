import { randomUUID } from 'node:crypto';
import type { ApiEvent } from '../../lib/http/request';

/** An API Gateway HTTP API payload 2.0 event, as the JWT authorizer passes it on. */
export const apiEvent = (
  routeKey: string,
  options: {
    path: string;
    id?: string;
    body?: unknown;
    headers?: Record<string, string>;
    claims?: Record<string, string>;
  },
): ApiEvent => {
  const [method] = routeKey.split(' ');
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey,
    rawPath: options.path,
    rawQueryString: '',
    headers: {
      host: 'abc123.execute-api.eu-central-1.amazonaws.com',
      'content-type': 'application/json',
      ...options.headers,
    },
    ...(options.id ? { pathParameters: { id: options.id } } : {}),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-central-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path: options.path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId,
      routeKey,
      stage: '$default',
      time: '02/Dec/2026:05:00:00 +0000',
      timeEpoch: 1_796_187_600_000,
      authorizer: {
        principalId: '',
        integrationLatency: 0,
        jwt: { claims: options.claims ?? { sub: 'olga', 'cognito:groups': '[sales]' }, scopes: [] },
      },
    },
  } as unknown as ApiEvent;
};
