import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ATTEMPT_SLOTS, REGISTER_COVER_MS } from '../../lib/core/build/attempts';
import { ExpressionBuilder } from '../../lib/core/build/expression';
import {
  ANSWER_PART_BYTES,
  decodeAnswer,
  encodeAnswer,
  keptAnswer,
  keptRecordPut,
} from '../../lib/core/build/key-record';
import { noChange } from '../../lib/core/build/records';
import { changeRequest, createRequest, deleteRequest } from '../../lib/core/build/requests';
import {
  decideFailure,
  inState,
  keyFree,
  lockFree,
  MovedError,
  recordExists,
  recordLive,
} from '../../lib/core/build/rules';
import { atVersion } from '../../lib/core/build/version';
import { aggregateActions } from '../../lib/core/features/aggregates/actions';
import type { AggregateWrite, ChildWrite } from '../../lib/core/features/aggregates/spec';
import { Replay, readKeyRecordItem } from '../../lib/core/once/replay';
import { tableName } from '../../lib/db/table-name';
import { orderEntity } from '../../lib/domain/orders';
import {
  AlreadyExistsError,
  GoneError,
  IdempotencyKeyReusedError,
  type InvalidStateError,
  LockedError,
  LockLostError,
  NotFoundError,
  OutcomeUnknownError,
  StaleDataError,
  TooManyChangesError,
} from '../../lib/errors';

const now = new Date('2026-01-01T00:00:00Z');
const context = { actor: 'alice', now };
const note = { type: 'NOTE', fields: ['name', 'note'] };
const live = { pk: 'NOTE#n1', sk: 'RECORD', id: 'n1', name: 'a', version: 3 };

/** The rules of a versioned change, in the order a failure is explained. */
const changeRules = (version: number, options: { pinned?: boolean; lockToken?: string } = {}) => [
  recordExists(),
  recordLive(now),
  lockFree({ actor: 'alice', now, lockToken: options.lockToken }),
  atVersion(
    { kind: 'version', version, source: 'header' },
    { now, change: { set: { name: 'b' }, remove: [] }, pinned: options.pinned },
  ),
  inState('status', ['draft'], 'order'),
];

/** A request's expressions with its names and values put back in: what it says, readably. */
// biome-ignore lint/suspicious/noExplicitAny: a request of any kind.
const decoded = (request: any) => {
  const fill = (text: string | undefined) =>
    text
      ?.replace(/#n\d+/g, (name) => `#${request.ExpressionAttributeNames?.[name]}`)
      .replace(/:v\d+/g, (value) => JSON.stringify(request.ExpressionAttributeValues?.[value]));
  return {
    ...(request?.UpdateExpression ? { update: fill(request.UpdateExpression) } : {}),
    ...(request?.Item ? { item: request.Item } : {}),
    condition: fill(request?.ConditionExpression),
  };
};

describe('decideFailure: what a failed write means, from the item as stored', () => {
  const mine = { kind: 'versioned' as const, id: 'mine', produces: 4 };

  it('this very attempt found on the item: applied, whatever was written since, with the version it wrote', () => {
    const item = { ...live, version: 9, deletedAt: '2026-01-01T00:00:00Z', '@v4': '4|mine' };
    expect(decideFailure(item, changeRules(3), mine)).toEqual({ applied: item, recognised: { version: 4 } });
  });

  it('another attempt made the version this one would: not applied, the rules say why', () => {
    const item = { ...live, version: 9, '@v4': '4|theirs' };
    expect((decideFailure(item, changeRules(3), mine) as { refused: Error }).refused).toBeInstanceOf(
      StaleDataError,
    );
  });

  it('a later version took the slot this attempt would be in: OUTCOME_UNKNOWN, never a conflict', () => {
    const item = { ...live, version: 12, [`@v${12 % ATTEMPT_SLOTS}`]: '12|theirs' };
    expect(decideFailure(item, changeRules(3), mine)).toEqual({ refused: new OutcomeUnknownError() });
  });

  it('a change without a version: in its register, applied; pushed out by writes sent since, OUTCOME_UNKNOWN', () => {
    const since = now.getTime();
    const tag = { kind: 'unversioned' as const, id: 'mine', since };
    const entry = (ms: number, id: string) => `${String(ms).padStart(15, '0')}|${id}`;
    const found = { ...live, version: 7, '@w3': entry(since, 'mine'), '@wv3': 5 };
    expect(decideFailure(found, changeRules(3), tag)).toEqual({ applied: found, recognised: { version: 5 } });
    const full = { ...live, version: 20, [`@w${ATTEMPT_SLOTS - 1}`]: entry(since - REGISTER_COVER_MS, 'x') };
    expect(decideFailure(full, changeRules(3), tag)).toEqual({ refused: new OutcomeUnknownError() });
    // The oldest entry kept was sent before this attempt could land: every later write is there.
    const covered = {
      ...live,
      version: 20,
      [`@w${ATTEMPT_SLOTS - 1}`]: entry(since - REGISTER_COVER_MS - 1, 'x'),
    };
    expect((decideFailure(covered, changeRules(3), tag) as { refused: Error }).refused).toBeInstanceOf(
      StaleDataError,
    );
  });

  it('no item: 404', () => {
    expect(decideFailure(undefined, changeRules(3), mine)).toEqual({ refused: new NotFoundError() });
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

  it('a lock held with the writer’s own current token is no reason: the version is', () => {
    const held = { token: 'tok', owner: 'alice', acquiredAt: '', expiresAt: '', until: now.getTime() + 1 };
    const { refused } = decideFailure(
      { ...live, version: 4, lock: held },
      changeRules(3, { lockToken: 'tok' }),
    ) as {
      refused: StaleDataError;
    };
    expect(refused).toBeInstanceOf(StaleDataError);
  });

  it('a token that is no longer current (expired, released, or another token of the writer’s): LOCK_LOST', () => {
    const expired = { token: 'tok', owner: 'alice', acquiredAt: '', expiresAt: '', until: now.getTime() };
    const retaken = { ...expired, token: 'newer', until: now.getTime() + 60_000 };
    for (const item of [{ ...live, lock: expired }, live, { ...live, lock: retaken }]) {
      expect(
        (decideFailure(item, changeRules(3, { lockToken: 'tok' })) as { refused: Error }).refused,
      ).toBeInstanceOf(LockLostError);
    }
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
  it('the same request within 24 h is a replay of the first answer', async () => {
    const stored = { h: 'rh', at: now.getTime() - 1000, response: gzipSync('{"b":1,"a":2}') };
    const replay = readKeyRecordItem(stored, idempotency, now) as Replay;
    expect(replay).toBeInstanceOf(Replay);
    expect(JSON.stringify(await replay.answer())).toBe('{"b":1,"a":2}');
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
    const Put = keptRecordPut(idempotency, keptAnswer(idempotency, encodeAnswer({ a: 1 }), 'c', now), now);
    const { response, ...item } = Put.Item as Record<string, unknown>;
    expect({ ...Put, Item: item }).toEqual({
      TableName: tableName(),
      Item: { pk: 'IDEM#kh', sk: 'IDEM', h: 'rh', at: now.getTime(), expiresAt: 1767398400 },
      ConditionExpression: 'attribute_not_exists(#n0) OR #n1 < :v0',
      ExpressionAttributeNames: { '#n0': 'pk', '#n1': 'at' },
      ExpressionAttributeValues: { ':v0': now.getTime() - 24 * 3600_000 },
    });
    expect(gunzipSync(response as Uint8Array).toString('utf8')).toBe('{"a":1}');
  });

  it('keeps an answer byte for byte, integers past 2^53 exact; one too large for the record in parts beside it', () => {
    const text = '{"b":1,"total":500000000000000000001,"a":[2]}';
    const decoded = decodeAnswer(gzipSync(text));
    expect(JSON.stringify(decoded)).toBe(text);
    expect(decodeAnswer('{"old":"text"}')).toEqual({ old: 'text' });
    expect(decodeAnswer({ old: 'map' })).toEqual({ old: 'map' });
    const incompressible = randomBytes(2 * ANSWER_PART_BYTES).toString('base64');
    const encoded = encodeAnswer({ incompressible });
    const kept = keptAnswer(idempotency, encoded, 'owner', now);
    expect(kept.attributes).toEqual({
      parts: { owner: 'owner', count: Math.ceil(encoded.byteLength / ANSWER_PART_BYTES) },
    });
    const joined = Buffer.concat(kept.parts.map((part) => (part.Item as { part: Uint8Array }).part));
    expect([kept.parts.map((part) => (part.Item as { sk: string }).sk)[0], joined.equals(encoded)]).toEqual([
      'ANSWER#owner#0000',
      true,
    ]);
  });
});

describe('pure request builders', () => {
  it('a versioned change with its attempt: fields, bump, audit, the attempt in the slot of the version it makes', () => {
    const { input } = changeRequest(
      note,
      'n1',
      { kind: 'version', version: 3, source: 'header' },
      { set: { name: 'x' }, remove: ['note'] },
      { ...context, lockToken: 'tok' },
      { attempt: { tag: { kind: 'versioned', id: 'att', produces: 4 }, again: false } },
    );
    expect(input).toEqual({
      TableName: tableName(),
      Key: { pk: 'NOTE#n1', sk: 'RECORD' },
      UpdateExpression: 'SET #n1 = :v1, #n2 = #n2 + :v2, #n3 = :v3, #n4 = :v4, #n0 = :v0 REMOVE #n5',
      // With a Lock-Token, only while that token is current: the writer's own, unexpired.
      ConditionExpression:
        '(attribute_exists(#n6)) AND (attribute_not_exists(#n7)) AND (#n8.#n9 = :v5 AND #n8.#n10 = :v6 AND #n8.#n11 > :v7) AND (#n2 = :v8)',
      ExpressionAttributeNames: {
        '#n0': `@v${4 % ATTEMPT_SLOTS}`,
        '#n1': 'name',
        '#n2': 'version',
        '#n3': 'updatedAt',
        '#n4': 'updatedBy',
        '#n5': 'note',
        '#n6': 'pk',
        '#n7': 'deletedAt',
        '#n8': 'lock',
        '#n9': 'token',
        '#n10': 'owner',
        '#n11': 'until',
      },
      ExpressionAttributeValues: {
        ':v0': '4|att',
        ':v1': 'x',
        ':v2': 1,
        ':v3': '2026-01-01T00:00:00.000Z',
        ':v4': 'alice',
        ':v5': 'tok',
        ':v6': 'alice',
        ':v7': now.getTime(),
        ':v8': 3,
      },
    });
  });

  it('an If-Match: * change with its attempt: shifted into the register with the version it makes, required absent; sent again, the register must cover its time', () => {
    const since = now.getTime();
    const build = (again: boolean) =>
      changeRequest(note, 'n1', { kind: 'any' }, { set: { name: 'x' }, remove: [] }, context, {
        attempt: { tag: { kind: 'unversioned', id: 'att', since }, again },
      }).input;
    const input = build(true);
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const named = (placeholder: string) => names[placeholder] ?? values[placeholder];
    const readable = (text: string | undefined) =>
      (text ?? '').replace(/[#:][nv]\d+/g, (p) => String(named(p)));
    const slots = Array.from({ length: ATTEMPT_SLOTS }, (_, slot) => slot);
    const shifts = slots
      .slice(1)
      .reverse()
      .flatMap((slot) => [
        `@w${slot} = if_not_exists(@w${slot - 1}, )`,
        `@wv${slot} = if_not_exists(@wv${slot - 1}, )`,
      ]);
    expect(readable(input.UpdateExpression)).toBe(
      `SET name = x, version = version + 1, updatedAt = 2026-01-01T00:00:00.000Z, updatedBy = alice, ${shifts.join(', ')}, @w0 = 00${since}|att, @wv0 = version + 1`,
    );
    const absent = `NOT (${slots.map((slot) => `contains(@w${slot}, att)`).join(' OR ')})`;
    const covered = `attribute_not_exists(@w7) OR @w7 < 00${since - REGISTER_COVER_MS}`;
    expect(readable(input.ConditionExpression)).toBe(
      `(attribute_exists(pk)) AND (attribute_not_exists(deletedAt)) AND (attribute_not_exists(lock) OR lock.until <= ${now.getTime()}) AND (${absent}) AND (${covered})`,
    );
    // Its first attempt needs no cover: nothing of it can be there yet.
    expect(build(false).ConditionExpression).not.toContain(String(since - REGISTER_COVER_MS));
  });

  it('a delete with If-Match: * inside a transaction: a tombstone that keeps the fields, no version clause, no register', () => {
    expect(deleteRequest(note, 'n1', { kind: 'any' }, context).input).toEqual({
      TableName: tableName(),
      Key: { pk: 'NOTE#n1', sk: 'RECORD' },
      UpdateExpression:
        'SET #n0 = :v0, #n1 = :v1, #n2 = :v2, #n3 = #n3 + :v3, #n4 = :v4, #n5 = :v5 REMOVE #n6, #n7',
      ConditionExpression:
        '(attribute_exists(#n8)) AND (attribute_not_exists(#n0)) AND (attribute_not_exists(#n9) OR #n9.#n10 <= :v6)',
      ExpressionAttributeNames: {
        '#n0': 'deletedAt',
        '#n1': 'deletedBy',
        '#n2': 'expiresAt',
        '#n3': 'version',
        '#n4': 'updatedAt',
        '#n5': 'updatedBy',
        '#n6': 'gsi1pk',
        '#n7': 'gsi1sk',
        '#n8': 'pk',
        '#n9': 'lock',
        '#n10': 'until',
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

  it('a create: the item with its attempt kept for good, where no live record is', () => {
    expect(
      createRequest({ pk: 'NOTE#n1', sk: 'RECORD', id: 'n1' }, context, {
        attempt: { tag: { kind: 'create', id: 'att' }, again: false },
      }).input,
    ).toEqual({
      TableName: tableName(),
      Item: { pk: 'NOTE#n1', sk: 'RECORD', id: 'n1', '@c': 'att' },
      ConditionExpression: '(attribute_not_exists(#n0) OR (attribute_exists(#n1) AND #n2 <= :v0))',
      ExpressionAttributeNames: { '#n0': 'pk', '#n1': 'deletedAt', '#n2': 'expiresAt' },
      ExpressionAttributeValues: { ':v0': 1767225600 },
    });
  });

  it('an aggregate write: the header update with the version bump and what it keeps of the child first, then each child', () => {
    const actions = aggregateActions(
      orderEntity,
      'o1',
      {
        precondition: { kind: 'version', version: 2 },
        header: { set: {}, remove: [] },
        children: [{ kind: 'add', childId: 'l1', fields: { sku: 'A', quantity: 3, unitPrice: 250 } }],
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
          UpdateExpression:
            'SET #n0 = #n0 + :v0, #n1 = :v1, #n2 = :v2, #n3 = #n3 + :v3, #n4.#n5 = :v4, #n6.#n5 = :v5',
          ConditionExpression:
            '(attribute_exists(#n7)) AND (attribute_not_exists(#n8)) AND (attribute_not_exists(#n9) OR #n9.#n10 <= :v6) AND (#n0 = :v7) AND (#n11 IN (:v8)) AND (#n3 <= :v9) AND (attribute_exists(#n4) AND attribute_exists(#n6))',
          ExpressionAttributeNames: {
            '#n0': 'version',
            '#n1': 'updatedAt',
            '#n2': 'updatedBy',
            '#n3': 'lineCount',
            '#n4': 'childVersions',
            '#n5': 'l1',
            '#n6': 'childAmounts',
            '#n7': 'pk',
            '#n8': 'deletedAt',
            '#n9': 'lock',
            '#n10': 'until',
            '#n11': 'status',
          },
          ExpressionAttributeValues: {
            ':v0': 1,
            ':v1': '2026-01-01T00:00:00.000Z',
            ':v2': 'alice',
            ':v3': 1,
            ':v4': 3,
            ':v5': 750,
            ':v6': now.getTime(),
            ':v7': 2,
            ':v8': 'draft',
            ':v9': 499,
          },
        },
      },
      {
        Put: {
          TableName: tableName(),
          Item: {
            pk: 'ORDER#o1',
            sk: 'LINE#l1',
            lineId: 'l1',
            sku: 'A',
            quantity: 3,
            unitPrice: 250,
            writtenIn: 3,
          },
          ConditionExpression: '(attribute_not_exists(#n0))',
          ExpressionAttributeNames: { '#n0': 'pk' },
        },
      },
    ]);
  });

  it("what an aggregate's header keeps of its children: each child write sets or removes its own version and amount, a whole write (a replacement, or a header that keeps nothing yet) all of them", () => {
    const write = (children: ChildWrite[], more: Partial<AggregateWrite> = {}) => {
      const [first, ...rest] = aggregateActions(
        orderEntity,
        'o1',
        { precondition: { kind: 'version', version: 2 }, header: noChange, children, ...more },
        context,
      );
      return {
        header: decoded(first?.request.Update),
        children: rest.map((action) => decoded(action.request.Update ?? action.request.Put)),
      };
    };
    const bookkeeping =
      '#version = #version + 1, #updatedAt = "2026-01-01T00:00:00.000Z", #updatedBy = "alice"';
    const removed = write([{ kind: 'remove', childId: 'l1' }]).header;
    expect(removed.update).toBe(`SET ${bookkeeping} REMOVE #childVersions.#l1, #childAmounts.#l1`);
    expect(removed.condition).toMatch(
      / AND \(attribute_exists\(#childVersions\) AND attribute_exists\(#childAmounts\)\)$/,
    );

    // A change of the amount's fields writes the amount it leaves, from the line as read.
    const before = {
      pk: 'ORDER#o1',
      sk: 'LINE#l1',
      lineId: 'l1',
      sku: 'A',
      quantity: 3,
      unitPrice: 250,
      writtenIn: 1,
    };
    const repriced = write([
      { kind: 'update', childId: 'l1', change: { set: { unitPrice: 400 }, remove: [] }, before },
    ]);
    expect(repriced.header.update).toBe(
      `SET ${bookkeeping}, #childVersions.#l1 = 3, #childAmounts.#l1 = 1200`,
    );
    expect(repriced.children).toEqual([
      { update: 'SET #unitPrice = 400, #writtenIn = 3', condition: '(attribute_exists(#pk))' },
    ]);
    // A change of other fields keeps the amount: only the version it was written in.
    const described = write([
      { kind: 'update', childId: 'l1', change: { set: { description: 'x' }, remove: [] }, before },
    ]);
    expect(described.header.update).toBe(`SET ${bookkeeping}, #childVersions.#l1 = 3`);

    const other = { ...before, sk: 'LINE#l2', lineId: 'l2', quantity: 1, unitPrice: 5, writtenIn: 2 };
    const read = {
      header: { pk: 'ORDER#o1', sk: 'RECORD', version: 2, childVersions: { l1: 1, l2: 2 } },
      children: [before, other],
    };
    // A replacement writes every entry: the lines it writes at its own version, the others as read.
    const replaced = write(
      [
        { kind: 'add', childId: 'l3', fields: { sku: 'C', quantity: 2, unitPrice: 7 } },
        { kind: 'remove', childId: 'l1' },
      ],
      { read, whole: true },
    );
    expect(replaced.header.update).toBe(
      `SET ${bookkeeping}, #lineCount = 2, #childVersions = {"l2":2,"l3":3}, #childAmounts = {"l2":5,"l3":14}`,
    );
    expect(replaced.header.condition).not.toContain('childVersions');
    expect(replaced.children[0]).toEqual({
      item: {
        pk: 'ORDER#o1',
        sk: 'LINE#l3',
        lineId: 'l3',
        sku: 'C',
        quantity: 2,
        unitPrice: 7,
        writtenIn: 3,
      },
      condition: '(attribute_not_exists(#pk))',
    });

    // An order read whose header keeps nothing (stored before it kept its lines) gets it all.
    const { childVersions: _kept, ...legacyHeader } = read.header;
    const legacy = write([{ kind: 'remove', childId: 'l1' }], {
      read: { ...read, header: legacyHeader },
    }).header;
    expect(legacy.update).toBe(
      `SET ${bookkeeping}, #lineCount = 1, #childVersions = {"l2":2}, #childAmounts = {"l2":5}`,
    );
  });

  it('an aggregate write that cannot fit one transaction is 422, with a key or without: the key never counts', () => {
    const children = (count: number) =>
      Array.from({ length: count }, (_, n) => ({ kind: 'remove' as const, childId: `l${n}` }));
    const write = (count: number) => ({
      precondition: { kind: 'version' as const, version: 1 },
      header: { set: {}, remove: [] },
      children: children(count),
    });
    const keyed = { ...context, idempotency: { keyHash: 'k', requestHash: 'r' } };
    expect(aggregateActions(orderEntity, 'o1', write(99), context)).toHaveLength(100);
    expect(aggregateActions(orderEntity, 'o1', write(99), keyed)).toHaveLength(100);
    for (const writer of [context, keyed]) {
      expect(() => aggregateActions(orderEntity, 'o1', write(100), writer)).toThrow(TooManyChangesError);
    }
  });
});
