import { type Role, roles } from '../domain/roles';
import { UnauthenticatedError } from '../errors';

/**
 * Who is calling, from the token's claims. Its own module, free of the core and the table,
 * so that the live channel's functions read callers exactly as the API does without
 * carrying the write path (or its environment) in their bundles.
 */
export interface Principal {
  sub: string;
  roles: Role[];
}

/**
 * The caller from the JWT claims API Gateway's authorizer passed on. Its roles are the
 * group names of both `groups` and `cognito:groups` (an empty one hides nothing), each
 * matched whole: a group named `x,supervisor` grants nothing.
 */
export const principalOf = (event: { requestContext: unknown }): Principal =>
  principalOfClaims(
    (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer?.jwt
      ?.claims,
  );

/**
 * The caller from a token's claims, read as the API reads them; the live channel's tokens
 * go through here too, so there is no second reader of roles.
 */
export const principalOfClaims = (claims: Record<string, unknown> | undefined): Principal => {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0) throw new UnauthenticatedError();
  const names = new Set([...groupNames(claims?.groups), ...groupNames(claims?.['cognito:groups'])]);
  return { sub, roles: roles.filter((role) => names.has(role)) };
};

/**
 * The group names of one claim, as it may arrive: a JSON array, the JSON text of one, API
 * Gateway's flattening of an array to `[a b]` (names apart by spaces), or one name.
 */
export const groupNames = (claim: unknown): string[] => {
  if (Array.isArray(claim)) return claim.filter((name): name is string => typeof name === 'string');
  if (typeof claim !== 'string') return [];
  const text = claim.trim();
  if (text.startsWith('[')) {
    try {
      return groupNames(JSON.parse(text));
    } catch {
      return text
        .slice(1, text.endsWith(']') ? -1 : undefined)
        .split(/\s+/)
        .filter(Boolean);
    }
  }
  return text ? [text] : [];
};
