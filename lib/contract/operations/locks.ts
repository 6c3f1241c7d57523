import { lockBodySchema } from '../../http/validation';
import * as answers from '../responses';
import { asSchema, create, existing, keyRules, type Operation, roleRule, roles } from './kinds';

const lockLost = (when: string) => ({ status: 409, code: 'LOCK_LOST', when }) as const;

/** The lease routes of a lockable resource: acquire, renew, release. */
export const lockOperations = <R extends string>(resource: R) => {
  const acquire = {
    summary: 'Acquire the lock (a lease)',
    body: asSchema(lockBodySchema),
    success: { status: 201, body: answers.lease },
    headers: ['idempotency-key'],
    errors: create('LOCKED', 'LOCK_LOST', 'GONE', 'WRITE_CONTENTION'),
    rules: [
      ...existing,
      {
        status: 423,
        code: 'LOCKED',
        when: 'another user holds an unexpired lock (or one expired less than 1 s ago): `lock`, `Retry-After`',
      },
      ...keyRules,
    ],
  } satisfies Operation;
  const renew = {
    summary: 'Renew the lock',
    body: asSchema(lockBodySchema),
    success: { status: 200, body: answers.lease },
    headers: ['idempotency-key', 'lock-token-required'],
    errors: create('LOCK_LOST', 'GONE'),
    rules: [
      ...existing,
      lockLost('the `Lock-Token` is not the current lock, or it has expired'),
      ...keyRules,
    ],
  } satisfies Operation;
  const release = {
    summary: 'Release the lock (a supervisor: without its token)',
    success: { status: 204 },
    headers: ['idempotency-key', 'lock-token'],
    errors: [...create('LOCK_LOST', 'GONE'), ...roles],
    rules: [
      ...existing,
      lockLost('another token holds the lock'),
      roleRule('no `Lock-Token` is sent and the caller is no supervisor'),
      ...keyRules,
    ],
  } satisfies Operation;
  return {
    [`POST /${resource}/{id}/lock`]: acquire,
    [`PUT /${resource}/{id}/lock`]: renew,
    [`DELETE /${resource}/{id}/lock`]: release,
  } as Record<`POST /${R}/{id}/lock`, typeof acquire> &
    Record<`PUT /${R}/{id}/lock`, typeof renew> &
    Record<`DELETE /${R}/{id}/lock`, typeof release>;
};
