import type { EntitySpec } from '../core/build/keys';
import { acquireLease, releaseLease, renewLease } from '../core/features/leases/leases';
import { ForbiddenError, MalformedRequestError } from '../errors';
import type { Action } from './handler';
import { lockTokenOf, pathParameter, writeContextOf } from './request';
import { json, noContent, replayHeaders } from './response';
import { lockBodySchema, parseBody } from './validation';

/**
 * The three lock routes of a resource (`/{res}/{id}/lock`), the same for every locked
 * resource: acquire (201), renew (200, needs Lock-Token), release (204, needs Lock-Token
 * unless a supervisor breaks the lock).
 */
export const lockActions = (entity: EntitySpec, resource: string): Record<string, Action> => ({
  [`POST /${resource}/{id}/lock`]: async (request) => {
    const { ttlSeconds } = parseBody(lockBodySchema, request.body);
    const { lease, replayed } = await acquireLease(
      entity,
      pathParameter(request, 'id'),
      ttlSeconds,
      writeContextOf(request),
    );
    return json(201, lease, replayHeaders(replayed));
  },

  [`PUT /${resource}/{id}/lock`]: async (request) => {
    const { ttlSeconds } = parseBody(lockBodySchema, request.body);
    const token = lockTokenOf(request);
    if (!token) throw new MalformedRequestError('Renewing a lock needs its Lock-Token header.');
    const { lease, replayed } = await renewLease(
      entity,
      pathParameter(request, 'id'),
      token,
      ttlSeconds,
      writeContextOf(request),
    );
    return json(200, lease, replayHeaders(replayed));
  },

  [`DELETE /${resource}/{id}/lock`]: async (request) => {
    const token = lockTokenOf(request);
    if (!token && !request.principal.roles.includes('supervisor')) {
      throw new ForbiddenError('Only a supervisor may release a lock without its Lock-Token.');
    }
    const { replayed } = await releaseLease(
      entity,
      pathParameter(request, 'id'),
      token,
      writeContextOf(request),
    );
    return noContent(replayHeaders(replayed));
  },
});
