import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';

/** The issuer and audience the stack trusts (its user pool and client, or `-c jwtIssuer`/`jwtAudience`). */
export interface TrustedIssuer {
  issuer: string;
  audience: string;
}

/** The issuer's signing keys, found as API Gateway's JWT authorizer finds them: OpenID discovery. */
const discoveredKeys = (issuer: string): JWTVerifyGetKey => {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const load = async () => {
    const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    if (!response.ok) throw new Error(`OpenID discovery of ${issuer} answered ${response.status}`);
    const { jwks_uri: jwksUri } = (await response.json()) as { jwks_uri?: string };
    if (!jwksUri) throw new Error(`OpenID discovery of ${issuer} names no jwks_uri`);
    return createRemoteJWKSet(new URL(jwksUri));
  };
  return async (header, token) => {
    keys ??= load().catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
    return (await keys)(header, token);
  };
};

/**
 * Verifies a token as the HTTP API's JWT authorizer does, so a live connection is let in on
 * exactly the tokens the API takes: signed by the issuer's keys, `iss` the issuer, not
 * expired, and for the audience (`aud` containing it, or an access token's `client_id`).
 * `keys` stands in for the issuer's key set (tests).
 */
export const jwtVerifier =
  (trusted: TrustedIssuer, keys: JWTVerifyGetKey = discoveredKeys(trusted.issuer)) =>
  async (token: string): Promise<JWTPayload> => {
    const { payload } = await jwtVerify(token, keys, { issuer: trusted.issuer });
    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    if (!audiences.includes(trusted.audience) && payload.client_id !== trusted.audience)
      throw new Error('The token is not for this audience.');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0)
      throw new Error('The token names no subject.');
    return payload;
  };
