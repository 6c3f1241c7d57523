import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { aggregateActions } from '../../lib/core/aggregate';
import { ATTEMPT_SLOTS } from '../../lib/core/attempts';
import { ExpressionBuilder } from '../../lib/core/expression';
import {
  decodeAnswer,
  encodeAnswer,
  keyRecordAction,
  MAX_ANSWER_BYTES,
  Replay,
  readKeyRecordItem,
} from '../../lib/core/idempotency';
import { changeRequest, createRequest, deleteRequest } from '../../lib/core/requests';
import {
  atVersion,
  decideFailure,
  inState,
  keyFree,
  lockFree,
  MovedError,
  recordExists,
  recordLive,
} from '../../lib/core/rules';
import { tableName } from '../../lib/db/client';
import { orderEntity } from '../../lib/domain/orders';
import {
  AlreadyExistsError,
  GoneError,
  IdempotencyKeyReusedError,
  type InvalidStateError,
  LockedError,
  NotFoundError,
  StaleDataError,
  TooManyChangesError,
} from '../../lib/errors';

const now = new Date('2026-01-01T00:00:00Z');
const context = { actor: 'alice', now };
const note = { type: 'NOTE', fields: ['name', 'note'] };
const live = { pk: 'NOTE#n1', sk: 'RECORD', id: 'n1', name: 'a', version: 3 };

/** The rules of a versioned change, in the order a failure is explained. */
const changeRules = (version: number, options: { pinned?: boolean } = {}) => [
  recordExists(),
  recordLive(now),
  lockFree({ actor: 'alice', now, lockToken: 'tok' }),
  atVersion(version, { now, change: { set: { name: 'b' }, remove: [] }, ...options }),
  inState('status', ['draft'], 'order'),
];

describe('decideFailure: what a failed write means, from the item as stored', () => {
  it('this very attempt found on the item: applied, whatever was written since', () => {
    const item = { ...live, version: 9, deletedAt: '2026-01-01T00:00:00Z', 'ov@4': 'mine' };
    expect(decideFailure(item, changeRules(3), 'mine')).toEqual({ applied: item });
  });

  it('no item: 404', () => {
    expect(decideFailure(undefined, changeRules(3), 'mine')).toEqual({ refused: new NotFoundError() });
  });

  it('a tombstone: 410 with who and when while it lasts, 404 past its retention', () => {
    const tombstone = {
      ...live,
      deletedAt: '2025-12-31T00:00:00Z',
      deletedBy: 'bob',
      expiresAt: 1_800_000_000,
    };
    const gone = decideFailure(tombstone, changeRules(3)) as { refused: GoneError };
    expect(gone.refused).toBeInstanceOf(GoneError);
    expect(gone.refused.extensions).toEqual({ deletedAt: '2025-12-31T00:00:00Z', deletedBy: 'bob' });
    const expired = decideFailure({ ...tombstone, expiresAt: 1_000 }, changeRules(3));
    expect(expired).toEqual({ refused: new NotFoundError() });
  });

  it('a create meets a tombstone whose retention ends this very second as free: the clause and its reading agree', () => {
    const rule = keyFree(now);
    const endsNow = {
      ...live,
      deletedAt: '2025-11-01T00:00:00Z',
      expiresAt: Math.floor(now.getTime() / 1000),
    };
    const x = new ExpressionBuilder();
    expect(rule.clause(x)).toBe('attribute_not_exists(#n0) OR (attribute_exists(#n1) AND #n2 <= :v0)');
    expect(x.values[':v0']).toBe(endsNow.expiresAt);
    expect(rule.broken(endsNow)).toBeUndefined();
    expect(rule.broken({ ...endsNow, expiresAt: endsNow.expiresAt + 1 })).toBeInstanceOf(AlreadyExistsError);
  });

  it('an unexpired lock held with another token: 423 with owner, expiry and Retry-After', () => {
    const lock = {
      token: 'other',
      owner: 'bob',
      acquiredAt: '',
      expiresAt: '2026-01-01T00:00:30.000Z',
      until: now.getTime() + 30_000,
    };
    const { refused } = decideFailure({ ...live, lock }, changeRules(3)) as { refused: LockedError };
    expect(refused).toBeInstanceOf(LockedError);
    expect([refused.extensions, refused.headers]).toEqual([
      { lock: { owner: 'bob', expiresAt: '2026-01-01T00:00:30.000Z' } },
      { 'Retry-After': '30' },
    ]);
  });

  it('a lock held with the writer’s own token, or expired, is no reason: the version is', () => {
    const mine = { token: 'tok', owner: 'alice', acquiredAt: '', expiresAt: '', until: now.getTime() + 1 };
    const { refused } = decideFailure({ ...live, version: 4, lock: mine }, changeRules(3)) as {
      refused: StaleDataError;
    };
    expect(refused).toBeInstanceOf(StaleDataError);
  });

  it('another version: STALE_DATA with current, marked when the change is stored already', () => {
    const other = decideFailure({ ...live, version: 4 }, changeRules(3)) as { refused: StaleDataError };
    expect([other.refused.code, other.refused.changeAlreadyPresent, other.refused.current.version]).toEqual([
      'STALE_DATA',
      false,
      4,
    ]);
    const present = decideFailure({ ...live, version: 4, name: 'b' }, changeRules(3)) as {
      refused: StaleDataError;
    };
    expect([present.refused.changeAlreadyPresent, present.refused.extensions.changeAlreadyPresent]).toEqual([
      true,
      true,
    ]);
  });

  it('a pinned write whose version moved reads again instead of answering a conflict', () => {
    expect(decideFailure({ ...live, version: 4 }, changeRules(3, { pinned: true }))).toEqual({
      refused: new MovedError(),
    });
  });

  it('the right version in the wrong state: INVALID_STATE with the state', () => {
    const { refused } = decideFailure({ ...live, status: 'approved' }, changeRules(3)) as {
      refused: InvalidStateError;
    };
    expect([refused.code, refused.extensions]).toEqual(['INVALID_STATE', { state: 'approved' }]);
  });

  it('a failure that breaks none of its rules is a bug, and says so', () => {
    expect(() => decideFailure({ ...live, status: 'draft' }, changeRules(3))).toThrow(
      'A conditional write failed although every one of its rules held.',
    );
  });
});

describe('the key record: a replay, a reuse, or nothing', () => {
  const idempotency = { keyHash: 'kh', requestHash: 'rh' };
  it('the same request within 24 h is a replay of the first answer', () => {
    const stored = { h: 'rh', at: now.getTime() - 1000, response: gzipSync('{"b":1,"a":2}') };
    const replay = readKeyRecordItem(stored, idempotency, now) as Replay;
    expect(replay).toBeInstanceOf(Replay);
    expect(JSON.stringify(replay.response)).toBe('{"b":1,"a":2}');
  });

  it('another request under the key is 422; a record past its window counts for nothing', () => {
    expect(
      readKeyRecordItem({ h: 'other', at: now.getTime(), response: '{}' }, idempotency, now),
    ).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(
      readKeyRecordItem({ h: 'rh', at: now.getTime() - 25 * 3600_000, response: '{}' }, idempotency, now),
    ).toBe(undefined);
  });

  it('is one Put with the answer gzipped, taken only when the key is new or past its window', () => {
    const { Put } = keyRecordAction(idempotency, { a: 1 }, now).request as { Put: Record<string, unknown> };
    const { response, ...item } = Put.Item as Record<string, unknown>;
    expect({ ...Put, Item: item }).toEqual({
      TableName: tableName(),
      Item: { pk: 'IDEM#kh', sk: 'IDEM', h: 'rh', at: now.getTime(), expiresAt: 1767398400 },
      ConditionExpression: '(attribute_not_exists(#n0) OR #n1 < :v0)',
      ExpressionAttributeNames: { '#n0': 'pk', '#n1': 'at' },
      ExpressionAttributeValues: { ':v0': now.getTime() - 24 * 3600_000 },
    });
    expect(gunzipSync(response as Uint8Array).toString('utf8')).toBe('{"a":1}');
  });

  it('keeps an answer byte for byte, integers past 2^53 exact; refuses one too large to keep', () => {
    const text = '{"b":1,"total":500000000000000000001,"a":[2]}';
    const decoded = decodeAnswer(gzipSync(text));
    expect(JSON.stringify(decoded)).toBe(text);
    expect(decodeAnswer('{"old":"text"}')).toEqual({ old: 'text' });
    expect(decodeAnswer({ old: 'map' })).toEqual({ old: 'map' });
    const incompressible = randomBytes(MAX_ANSWER_BYTES).toString('base64');
    expect(() => encodeAnswer({ incompressible })).toThrow(TooManyChangesError);
  });
});

describe('pure request builders', () => {
  it('a versioned change with an attempt id: fields, bump, audit, its id in the slot of the version it makes', () => {
    const { input } = changeRequest(
      note,
      'n1',
      { kind: 'version', version: 3 },
      { set: { name: 'x' }, remove: ['note'] },
      { ...context, lockToken: 'tok' },
      { attemptId: 'att' },
    );
    expect(input).toEqual({
      TableName: tableName(),
      Key: { pk: 'NOTE#n1', sk: 'RECORD' },
      UpdateExpression: 'SET #n0 = :v0, #n1 = #n1 + :v1, #n2 = :v2, #n3 = :v3, #n4 = :v4 REMOVE #n11',
      ConditionExpression:
        '(attribute_exists(#n5)) AND (attribute_not_exists(#n6)) AND (attribute_not_exists(#n7) OR #n7.#n8 <= :v5 OR (#n7.#n9 = :v6 AND #n7.#n10 = :v7)) AND (#n1 = :v8)',
      ExpressionAttributeNames: {
        '#n0': 'name',
        '#n1': 'version',
        '#n2': 'updatedAt',
        '#n3': 'updatedBy',
        '#n4': `ov@${4 % ATTEMPT_SLOTS}`,
        '#n5': 'pk',
        '#n6': 'deletedAt',
        '#n7': 'lock',
        '#n8': 'until',
        '#n9': 'token',
        '#n10': 'owner',
        '#n11': 'note',
      },
      ExpressionAttributeValues: {
        ':v0': 'x',
        ':v1': 1,
        ':v2': '2026-01-01T00:00:00.000Z',
        ':v3': 'alice',
        ':v4': 'att',
        ':v5': now.getTime(),
        ':v6': 'tok',
        ':v7': 'alice',
        ':v8': 3,
      },
    });
  });

  it('an If-Match: * change with an attempt id: its id shifted into the register, and required absent from it', () => {
    const { input } = changeRequest(
      note,
      'n1',
      { kind: 'any' },
      { set: { name: 'x' }, remove: [] },
      context,
      {
        attemptId: 'att',
      },
    );
    const register = Array.from({ length: ATTEMPT_SLOTS }, (_, slot) => `op@${slot}`);
    const names = input.ExpressionAttributeNames ?? {};
    const placeholder = (name: string) => Object.keys(names).find((key) => names[key] === name);
    const shifts = register
      .slice(1)
      .map(
        (name, index) =>
          `${placeholder(name)} = if_not_exists(${placeholder(register[index] as string)}, :v4)`,
      )
      .reverse();
    expect(input.UpdateExpression).toBe(
      `SET #n0 = :v0, #n1 = #n1 + :v1, #n2 = :v2, #n3 = :v3, ${shifts.join(', ')}, ${placeholder('op@0')} = :v5`,
    );
    expect(input.ConditionExpression).toBe(
      `(attribute_exists(#n12)) AND (attribute_not_exists(#n13)) AND (attribute_not_exists(#n14) OR #n14.#n15 <= :v7) AND (NOT (${register.map((name) => `${placeholder(name)} = :v6`).join(' OR ')}))`,
    );
    expect(input.ExpressionAttributeValues).toEqual({
      ':v0': 'x',
      ':v1': 1,
      ':v2': '2026-01-01T00:00:00.000Z',
      ':v3': 'alice',
      ':v4': '',
      ':v5': 'att',
      ':v6': 'att',
      ':v7': now.getTime(),
    });
  });

  it('a delete with If-Match: * inside a transaction: a tombstone, no version clause, no register', () => {
    expect(deleteRequest(note, 'n1', { kind: 'any' }, context).input).toEqual({
      TableName: tableName(),
      Key: { pk: 'NOTE#n1', sk: 'RECORD' },
      UpdateExpression:
        'SET #n0 = :v0, #n1 = :v1, #n2 = :v2, #n3 = #n3 + :v3, #n4 = :v4, #n5 = :v5 REMOVE #n6, #n7, #n8, #n9',
      ConditionExpression:
        '(attribute_exists(#n10)) AND (attribute_not_exists(#n0)) AND (attribute_not_exists(#n11) OR #n11.#n12 <= :v6)',
      ExpressionAttributeNames: {
        '#n0': 'deletedAt',
        '#n1': 'deletedBy',
        '#n2': 'expiresAt',
        '#n3': 'version',
        '#n4': 'updatedAt',
        '#n5': 'updatedBy',
        '#n6': 'gsi1pk',
        '#n7': 'gsi1sk',
        '#n8': 'name',
        '#n9': 'note',
        '#n10': 'pk',
        '#n11': 'lock',
        '#n12': 'until',
      },
      ExpressionAttributeValues: {
        ':v0': '2026-01-01T00:00:00.000Z',
        ':v1': 'alice',
        ':v2': 1770249600,
        ':v3': 1,
        ':v4': '2026-01-01T00:00:00.000Z',
        ':v5': 'alice',
        ':v6': now.getTime(),
      },
    });
  });

  it('a create: the item with its first attempt id, where no live record is', () => {
    expect(
      createRequest({ pk: 'NOTE#n1', sk: 'RECORD', id: 'n1' }, context, { attemptId: 'att' }).input,
    ).toEqual({
      TableName: tableName(),
      Item: { pk: 'NOTE#n1', sk: 'RECORD', id: 'n1', 'ov@1': 'att' },
      ConditionExpression: '(attribute_not_exists(#n0) OR (attribute_exists(#n1) AND #n2 <= :v0))',
      ExpressionAttributeNames: { '#n0': 'pk', '#n1': 'deletedAt', '#n2': 'expiresAt' },
      ExpressionAttributeValues: { ':v0': 1767225600 },
    });
  });

  it('an aggregate write: the header update with the version bump first, then each child', () => {
    const actions = aggregateActions(
      orderEntity,
      'o1',
      {
        precondition: { kind: 'version', version: 2 },
        header: { set: {}, remove: [] },
        children: [{ kind: 'add', childId: 'l1', fields: { sku: 'A' } }],
        allowedStatuses: ['draft'],
        childCount: { delta: 1 },
      },
      context,
    );
    expect(actions.map((action) => action.request)).toEqual([
      {
        Update: {
          TableName: tableName(),
          Key: { pk: 'ORDER#o1', sk: 'RECORD' },
          UpdateExpression: 'SET #n0 = #n0 + :v0, #n1 = :v1, #n2 = :v2, #n3 = #n3 + :v3',
          ConditionExpression:
            '(attribute_exists(#n4)) AND (attribute_not_exists(#n5)) AND (attribute_not_exists(#n6) OR #n6.#n7 <= :v4) AND (#n0 = :v5) AND (#n8 IN (:v6)) AND (#n3 <= :v7)',
          ExpressionAttributeNames: {
            '#n0': 'version',
            '#n1': 'updatedAt',
            '#n2': 'updatedBy',
            '#n3': 'lineCount',
            '#n4': 'pk',
            '#n5': 'deletedAt',
            '#n6': 'lock',
            '#n7': 'until',
            '#n8': 'status',
          },
          ExpressionAttributeValues: {
            ':v0': 1,
            ':v1': '2026-01-01T00:00:00.000Z',
            ':v2': 'alice',
            ':v3': 1,
            ':v4': now.getTime(),
            ':v5': 2,
            ':v6': 'draft',
            ':v7': 499,
          },
        },
      },
      {
        Put: {
          TableName: tableName(),
          Item: { pk: 'ORDER#o1', sk: 'LINE#l1', lineId: 'l1', sku: 'A' },
          ConditionExpression: '(attribute_not_exists(#n0))',
          ExpressionAttributeNames: { '#n0': 'pk' },
        },
      },
    ]);
  });

  it('an aggregate write that cannot fit one transaction, with its key record counted, is 422', () => {
    const children = Array.from({ length: 99 }, (_, n) => ({ kind: 'remove' as const, childId: `l${n}` }));
    const write = {
      precondition: { kind: 'version' as const, version: 1 },
      header: { set: {}, remove: [] },
      children,
    };
    expect(aggregateActions(orderEntity, 'o1', write, context)).toHaveLength(100);
    expect(() =>
      aggregateActions(orderEntity, 'o1', write, {
        ...context,
        idempotency: { keyHash: 'k', requestHash: 'r' },
      }),
    ).toThrow(TooManyChangesError);
  });
});
