import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * The live channel's `$connect` authorizer takes exactly the tokens the HTTP API's JWT
 * authorizer takes: signed by the issuer's keys (found by OpenID discovery), from the issuer,
 * unexpired, for the audience (`aud`, or an access token's `client_id`). The issuer is played
 * by a stubbed fetch serving its discovery document and key set.
 */
const issuer = 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Test';
const audience = 'web-client-id';
const methodArn = 'arn:aws:execute-api:eu-central-1:123456789012:abc123/live/$connect';
let sign: (
  claims: Record<string, unknown>,
  options?: { issuer?: string; expiresIn?: string },
) => Promise<string>;
let handler: typeof import('../../functions/live-authorizer').handler;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const documents: Record<string, unknown> = {
    [`${issuer}/.well-known/openid-configuration`]: { issuer, jwks_uri: `${issuer}/.well-known/jwks.json` },
    [`${issuer}/.well-known/jwks.json`]: { keys: [jwk] },
  };
  vi.stubGlobal('fetch', async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    const document = documents[url];
    return new Response(JSON.stringify(document ?? {}), {
      status: document ? 200 : 404,
      headers: { 'content-type': 'application/json' },
    });
  });
  sign = (claims, options = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(options.issuer ?? issuer)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '1h')
      .sign(privateKey);
  process.env.JWT_ISSUER = issuer;
  process.env.JWT_AUDIENCE = audience;
  ({ handler } = await import('../../functions/live-authorizer'));
});
afterAll(() => {
  vi.unstubAllGlobals();
});

const authorize = (token: string) =>
  handler({ type: 'REQUEST', methodArn, queryStringParameters: { token } } as never).then(
    (result) => result,
    (error: Error) => error.message,
  );

describe('the live channel’s authorizer', () => {
  it('lets in an ID token for the app client, with its sub, expiry and groups as the connection’s context', async () => {
    const token = await sign({ sub: 'alice', aud: audience, 'cognito:groups': ['sales', 'supervisor'] });

    expect(await authorize(token)).toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
      },
      context: {
        sub: 'alice',
        exp: expect.any(Number),
        groups: 'null',
        cognitoGroups: '["sales","supervisor"]',
      },
    });
  });

  it('lets in an access token whose client_id is the app client', async () => {
    const token = await sign({ sub: 'bob', client_id: audience, groups: 'sales' });

    expect(await authorize(token)).toMatchObject({ principalId: 'bob', context: { groups: '"sales"' } });
  });

  it('refuses, with 401, a token for another audience, from another issuer, expired, without a subject, or none', async () => {
    const refused = await Promise.all([
      authorize(await sign({ sub: 'eve', aud: 'other-client' })),
      authorize(await sign({ sub: 'eve', aud: audience }, { issuer: 'https://evil.example.com' })),
      authorize(await sign({ sub: 'eve', aud: audience }, { expiresIn: '-1m' })),
      authorize(await sign({ aud: audience })),
      authorize('not-a-token'),
      authorize(''),
    ]);

    expect(refused).toEqual(Array(6).fill('Unauthorized'));
  });
});
