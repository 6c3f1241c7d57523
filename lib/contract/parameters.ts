import { ENTITY_TAG_PATTERN } from '../etag';
import { ID, IDEMPOTENCY_KEY, LOCK_TOKEN } from '../http/request';
import type { HeaderUse } from './operations';

type Json = Record<string, unknown>;

/**
 * The document's shared parts: the parameters and headers every operation refers to by
 * `$ref`, each with the pattern the server checks it against, and the security scheme.
 */
export const header = (name: string): Json => ({ $ref: `#/components/headers/${name}` });
export const parameter = (name: string): Json => ({ $ref: `#/components/parameters/${name}` });

export const headerParameter: Record<HeaderUse, string> = {
  'if-match': 'IfMatch',
  'if-none-match': 'IfNoneMatch',
  'idempotency-key': 'IdempotencyKey',
  'idempotency-key-required': 'IdempotencyKeyRequired',
  'lock-token': 'LockToken',
  'lock-token-required': 'LockTokenRequired',
};

/** What `If-Match` may be: `*`, or one entity tag (`parseIfMatch`: any other value is 400). */
const IF_MATCH = new RegExp(`^(?:\\*|${ENTITY_TAG_PATTERN.source.slice(1, -1)})$`);

const idempotencyKey = {
  in: 'header',
  name: 'Idempotency-Key',
  schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
};
const lockToken = {
  in: 'header',
  name: 'Lock-Token',
  schema: { type: 'string', pattern: LOCK_TOKEN.source },
};

export const sharedComponents = (): Json => ({
  securitySchemes: {
    bearer: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'A JWT whose `sub` is the caller and whose `groups` (or `cognito:groups`) are its roles.',
    },
  },
  parameters: {
    id: {
      name: 'id',
      in: 'path',
      required: true,
      description: 'Any other id is 404.',
      schema: { type: 'string', pattern: ID.source },
    },
    lineId: { name: 'lineId', in: 'path', required: true, schema: { type: 'string', pattern: ID.source } },
    IfMatch: {
      name: 'If-Match',
      in: 'header',
      description:
        'The version the change is based on, `"<version>"`, or `*` to overwrite whatever is stored. A tag that is no version of the record (weak, or none of this API) is 412.',
      schema: { type: 'string', pattern: IF_MATCH.source },
    },
    IfNoneMatch: {
      name: 'If-None-Match',
      in: 'header',
      description: 'ETags the caller has (a list, weak or `*`); the current one gets 304.',
      schema: { type: 'string' },
    },
    IdempotencyKey: {
      ...idempotencyKey,
      description: 'Makes the request happen once: a repeat within 24 h gets the first answer.',
    },
    IdempotencyKeyRequired: {
      ...idempotencyKey,
      required: true,
      description: 'Required: money and stock move once per key.',
    },
    LockToken: { ...lockToken, description: 'The token of the lock the caller holds on the record.' },
    LockTokenRequired: { ...lockToken, required: true, description: 'The token of the lock to renew.' },
    limit: { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
  },
  headers: {
    ETag: {
      description: 'The strong ETag of the version answered: `"<version>"`.',
      schema: { type: 'string' },
    },
    Location: { description: 'Where the new record is.', schema: { type: 'string' } },
    AppliedVersion: {
      description:
        'Only on a change recognised as applied after its first answer was lost, when the record has changed since: the version this request wrote. The body and ETag are then the record as it is now.',
      schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
    },
    IdempotentReplayed: {
      description: '`true` on an answer that repeats the first answer of this key.',
      schema: { type: 'string', enum: ['true'] },
    },
    RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'string' } },
    WWWAuthenticate: { schema: { type: 'string' } },
  },
  schemas: {},
  responses: {},
});
