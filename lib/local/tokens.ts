import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

/** Issuer and audience of the tokens the local server hands out and accepts. */
export const LOCAL_ISSUER = 'no-lost-updates-local';
export const LOCAL_AUDIENCE = 'no-lost-updates';

export interface LocalTokens {
  sign(claims: { sub: string; groups?: readonly string[]; ttlSeconds?: number }): Promise<string>;
  /** The token's claims, or a reason it is refused (no signature check passes, expired, wrong audience...). */
  verify(token: string): Promise<{ claims: Record<string, unknown> } | { refused: string }>;
}

export const newSigningSecret = (): Uint8Array => new Uint8Array(randomBytes(32));

/**
 * Signs and verifies local JWTs (HS256) with one secret; it stands in for the identity
 * provider whose tokens API Gateway's JWT authorizer checks in AWS.
 */
export const localTokens = (secret: Uint8Array): LocalTokens => ({
  sign: ({ sub, groups = [], ttlSeconds = 3600 }) =>
    new SignJWT({ groups: [...groups] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(secret),
  verify: async (token) => {
    try {
      const { payload } = await jwtVerify(token, secret, {
        issuer: LOCAL_ISSUER,
        audience: LOCAL_AUDIENCE,
        algorithms: ['HS256'],
      });
      return { claims: payload as Record<string, unknown> };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { refused: 'The token has expired.' };
      if (error instanceof errors.JWTClaimValidationFailed)
        return { refused: `The token's ${error.claim} claim is not accepted.` };
      return { refused: 'The token is not valid.' };
    }
  },
});
