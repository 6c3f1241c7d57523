import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { encodeAnswer, keyRecordKey } from '../../lib/core/build/key-record';
import type { EntitySpec } from '../../lib/core/build/keys';
import { mergePatch, TOMBSTONE_RETENTION_MS } from '../../lib/core/build/records';
import { acquireLease, releaseLease, renewLease } from '../../lib/core/features/leases/leases';
import { changeRecord, createRecord, deleteRecord } from '../../lib/core/features/records/store';
import { getRecord } from '../../lib/core/send/reads';
import { db } from '../../lib/db/client';
import { tableName } from '../../lib/db/table-name';
import { lostAnswerRetriedBySdk, recordRequests, throttled, withFault } from '../support/sdk';

const entity: EntitySpec = { type: 'THING', fields: ['name', 'note'] };
const at = (iso: string) => ({ actor: 'tester', now: new Date(iso) });

describe('versioned store (DynamoDB Local)', () => {
  it('creates at version 1 and bumps by exactly 1 per change', async () => {
    const { record } = await createRecord(entity, { name: 'a' }, at('2026-01-01T00:00:00Z'));
    const first = await changeRecord(
      entity,
      record.id,
      { kind: 'version', version: 1 },
      { set: { name: 'b' }, remove: [] },
      at('2026-01-01T00:00:01Z'),
    );
    const second = await changeRecord(
      entity,
      record.id,
      { kind: 'version', version: 2 },
      { set: { note: 'n' }, remove: [] },
      at('2026-01-01T00:00:02Z'),
    );
    expect([record.version, first.record.version, second.record.version]).toEqual([1, 2, 3]);
    expect(await getRecord(entity, record.id)).toEqual({
      id: record.id,
      name: 'b',
      note: 'n',
      version: 3,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'tester',
      updatedAt: '2026-01-01T00:00:02.000Z',
      updatedBy: 'tester',
    });
  });

  it('a stale change carries the current record and writes nothing', async () => {
    const { record } = await createRecord(entity, { name: 'a' }, at('2026-01-01T00:00:00Z'));
    await changeRecord(
      entity,
      record.id,
      { kind: 'version', version: 1 },
      { set: { name: 'b' }, remove: [] },
      at('2026-01-01T00:00:01Z'),
    );
    await expect(
      changeRecord(
        entity,
        record.id,
        { kind: 'version', version: 1 },
        { set: { name: 'c' }, remove: [] },
        at('2026-01-01T00:00:02Z'),
      ),
    ).rejects.toMatchObject({ code: 'STALE_DATA', current: { name: 'b', version: 2 } });
    expect(await getRecord(entity, record.id)).toMatchObject({ name: 'b', version: 2 });
  });

  it('a tombstone answers 410 within its retention and 404 after it, by timestamp, before TTL removes it', async () => {
    const { record } = await createRecord(entity, { name: 'a' }, at('2026-01-01T00:00:00Z'));
    await deleteRecord(
      entity,
      record.id,
      { kind: 'version', version: 1 },
      { actor: 'remover', now: new Date('2026-01-02T00:00:00Z') },
    );
    await expect(getRecord(entity, record.id, new Date('2026-01-31T00:00:00Z'))).rejects.toMatchObject({
      code: 'GONE',
      deletedBy: 'remover',
      deletedAt: '2026-01-02T00:00:00.000Z',
    });
    const afterRetention = new Date(Date.parse('2026-01-02T00:00:00Z') + TOMBSTONE_RETENTION_MS + 1000);
    await expect(getRecord(entity, record.id, afterRetention)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Writes agree with reads: past its retention the tombstone is 404 to them too.
    const late = { actor: 'late', now: afterRetention };
    await expect(
      changeRecord(entity, record.id, { kind: 'version', version: 2 }, mergePatch({ name: 'x' }), late),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(deleteRecord(entity, record.id, { kind: 'any' }, late)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(acquireLease(entity, record.id, 60, late)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a natural key is taken while its record lives, and free again once its tombstone has expired', async () => {
    await createRecord(entity, { name: 'a' }, at('2026-01-01T00:00:00Z'), { id: 'SKU-1' });
    await expect(
      createRecord(entity, { name: 'b' }, at('2026-01-01T00:00:01Z'), { id: 'SKU-1' }),
    ).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    await deleteRecord(entity, 'SKU-1', { kind: 'any' }, at('2026-01-02T00:00:00Z'));
    const later = new Date(Date.parse('2026-01-02T00:00:00Z') + TOMBSTONE_RETENTION_MS + 1000);
    const { record } = await createRecord(
      entity,
      { name: 'c' },
      { actor: 'tester', now: later },
      { id: 'SKU-1' },
    );
    expect(record).toMatchObject({ id: 'SKU-1', name: 'c', version: 1 });
  });

  it('a create the SDK retries after its response was lost meets its own write and succeeds', async () => {
    const { result, injected } = await withFault(lostAnswerRetriedBySdk('PutItemCommand'), () =>
      createRecord(entity, { name: 'once' }, at('2026-01-01T00:00:00Z'), { id: 'SKU-RETRY' }),
    );
    expect(injected).toBe(1);
    expect(result.record).toMatchObject({ id: 'SKU-RETRY', name: 'once', version: 1 });
  });

  it('throttling that outlasts the SDK retries is THROTTLED with Retry-After', async () => {
    const { record } = await createRecord(entity, { name: 'a' }, at('2026-01-01T00:00:00Z'));
    await expect(
      withFault({ when: () => true, at: 'before', error: throttled, layer: 'outside-retries' }, () =>
        getRecord(entity, record.id),
      ),
    ).rejects.toMatchObject({ code: 'THROTTLED', status: 503, headers: { 'Retry-After': '1' } });
  });

  it('a conflict costs the one failed request, with current', async () => {
    const { record } = await createRecord(entity, { name: 'a' }, at('2026-01-01T00:00:00Z'));
    await changeRecord(
      entity,
      record.id,
      { kind: 'any' },
      { set: { name: 'b' }, remove: [] },
      at('2026-01-01T00:00:01Z'),
    );
    const { commands } = await recordRequests(() =>
      changeRecord(
        entity,
        record.id,
        { kind: 'version', version: 1 },
        { set: { name: 'c' }, remove: [] },
        at('2026-01-01T00:00:02Z'),
      ).catch((error: unknown) => error),
    );
    expect(commands).toEqual(['UpdateItemCommand']);
  });

  it('replays the answers kept under a key in the shapes they are stored in: {record}, {lease}, {} for a release', async () => {
    // Key records outlive a deploy by their 24 h window: the shape of a kept answer is
    // stored data, so a release must replay what the one before it kept.
    const now = new Date('2026-01-01T00:00:05Z');
    const { record } = await createRecord(entity, { name: 'a' }, at('2026-01-01T00:00:00Z'));
    const keep = async (keyHash: string, response: unknown) => {
      await db().send(
        new PutCommand({
          TableName: tableName(),
          Item: { ...keyRecordKey(keyHash), h: 'rh', response: encodeAnswer(response), at: now.getTime() },
        }),
      );
      return { keyHash, requestHash: 'rh' };
    };
    const keptRecord = { ...record, name: 'kept', version: 2 };
    const keptLease = {
      token: 't0',
      owner: 'tester',
      acquiredAt: now.toISOString(),
      expiresAt: '2026-01-01T00:02:05.000Z',
      fence: 1,
    };
    const change = await changeRecord(
      entity,
      record.id,
      { kind: 'version', version: 1 },
      { set: { name: 'b' }, remove: [] },
      { ...at(now.toISOString()), idempotency: await keep(`change-${record.id}`, { record: keptRecord }) },
    );
    const lease = await acquireLease(entity, record.id, 120, {
      ...at(now.toISOString()),
      idempotency: await keep(`lock-${record.id}`, { lease: keptLease }),
    });
    const renewed = await renewLease(entity, record.id, 't0', 120, {
      ...at(now.toISOString()),
      idempotency: await keep(`renew-${record.id}`, { lease: keptLease }),
    });
    const released = await releaseLease(entity, record.id, 't0', {
      ...at(now.toISOString()),
      idempotency: await keep(`release-${record.id}`, {}),
    });
    expect(change).toEqual({ record: keptRecord, replayed: true });
    expect(lease).toEqual({ lease: keptLease, replayed: true });
    expect(renewed).toEqual({ lease: keptLease, replayed: true });
    expect(released).toEqual({ replayed: true });
    expect(await getRecord(entity, record.id, now)).toMatchObject({ name: 'a', version: 1 });
  });
});
