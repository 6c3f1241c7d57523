import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { jwtVerifier } from '../lib/live/jwt';

/**
 * The live channel's `$connect` authorizer (a WebSocket API takes Lambda authorizers, not the
 * HTTP API's JWT authorizer): the token a browser can only send in the query string
 * (`?token=`), verified as the API verifies it. Its claims go on to the connection as the
 * authorizer's context, where `$connect` reads the caller's roles exactly as the API does.
 */
const verify = jwtVerifier({
  issuer: process.env.JWT_ISSUER ?? '',
  audience: process.env.JWT_AUDIENCE ?? '',
});

export const handler = async (
  event: APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> => {
  const token = event.queryStringParameters?.token ?? '';
  let claims: Awaited<ReturnType<typeof verify>>;
  try {
    claims = await verify(token);
  } catch {
    // API Gateway answers this exact message with 401.
    throw new Error('Unauthorized');
  }
  return {
    principalId: String(claims.sub),
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    // Context values are strings or numbers: the group claims go as JSON text.
    context: {
      sub: String(claims.sub),
      exp: Number(claims.exp ?? 0),
      groups: JSON.stringify(claims.groups ?? null),
      cognitoGroups: JSON.stringify(claims['cognito:groups'] ?? null),
    },
  };
};
