import type { Role } from '../domain/roles';
import { type RouteSpec, routes } from '../routes';
import { parseTopic, type Resource, type Topic } from './protocol';

/**
 * Who may hear what: the same roles as the API's reads, from the route table. A record's
 * topic (its changes, who has it open) is for those who may `GET /<resource>/{id}`; a list's
 * for those who may `GET /<resource>`. So a user never learns of a record type they may not
 * read, and nothing here restates a role.
 */
const accessOf = (path: string): RouteSpec['access'] | undefined =>
  routes.find((route) => route.method === 'GET' && route.path === path)?.access;

const allows = (access: RouteSpec['access'] | undefined, roles: readonly Role[]): boolean =>
  access === 'any' ||
  access === 'public' ||
  (Array.isArray(access) && access.some((role) => roles.includes(role)));

/** Whether a caller with these roles may read records of `resource`, one by one. */
export const mayReadRecords = (resource: Resource, roles: readonly Role[]): boolean =>
  allows(accessOf(`/${resource}/{id}`), roles);

/** Whether a caller with these roles may read the list of `resource`. */
export const mayReadList = (resource: Resource, roles: readonly Role[]): boolean =>
  allows(accessOf(`/${resource}`), roles);

/** Whether a caller with these roles may subscribe to `topic` (text from the client). */
export const maySubscribe = (topic: string, roles: readonly Role[]): topic is Topic => {
  const parsed = parseTopic(topic);
  if (!parsed) return false;
  return parsed.kind === 'record'
    ? mayReadRecords(parsed.resource, roles)
    : mayReadList(parsed.resource, roles);
};
