import { type ApiEvent, type Principal, principalOf } from '../http/request';

/**
 * The caller of a live connection from its token's claims, read exactly as the API reads them
 * (`principalOf`: `sub`, and the roles of `groups` and `cognito:groups` in any of the forms a
 * claim arrives in); no second parser.
 */
export const principalOfClaims = (claims: Record<string, unknown>): Principal =>
  principalOf({ requestContext: { authorizer: { jwt: { claims } } } } as unknown as ApiEvent);
