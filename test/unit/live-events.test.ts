import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { StoredItem } from '../../lib/core/build/items';
import { type ChangeRecord, eventsOf, fromLambdaRecord } from '../../lib/live/events';

/**
 * Stream records → events, for every kind of change, with the items as the core stores them
 * (keys, listing index, search copy, attempt registers, key records, ledger entries). Every
 * value below that a record holds is a marked text (`V:…`) or a number no event may carry: the
 * last test holds every event to that.
 */
const received = '2026-12-06T10:00:09.000Z';
let sequence = 0;
const record = (
  eventName: ChangeRecord['eventName'],
  oldImage: StoredItem | undefined,
  newImage: StoredItem | undefined,
): ChangeRecord => {
  const item = (newImage ?? oldImage) as StoredItem;
  sequence += 1;
  return {
    eventName,
    seq: String(sequence).padStart(21, '0'),
    keys: { pk: item.pk, sk: item.sk },
    ...(oldImage ? { oldImage } : {}),
    ...(newImage ? { newImage } : {}),
  };
};
const insert = (item: StoredItem) => record('INSERT', undefined, item);
const modify = (before: StoredItem, after: StoredItem) => record('MODIFY', before, after);
const remove = (item: StoredItem) => record('REMOVE', item, undefined);
const strip = (events: ReturnType<typeof eventsOf>) => events.map(({ seq: _seq, ...event }) => event);

const t = (second: number) => `2026-12-06T10:00:0${second}.000Z`;
const audited = (version: number, by: string, at: string) => ({
  version,
  updatedAt: at,
  updatedBy: by,
});

/** A record's own item as the core writes it: keys, listing index, audit fields, version 1. */
const recordItem =
  (type: string, id: string, creator: string, fields: StoredItem) =>
  (overrides: StoredItem = {}): StoredItem => ({
    pk: `${type}#${id}`,
    sk: 'RECORD',
    gsi1pk: type,
    gsi1sk: `${t(0)}#${id}`,
    id,
    ...fields,
    createdAt: t(0),
    createdBy: creator,
    ...audited(1, creator, t(0)),
    ...overrides,
  });

const annotation = recordItem('ANNOTATION', 'a1', 'alice', {
  name: 'V:Cell 4',
  search: 'v:cell 4',
  '@c': 'attempt-create',
});
const debtor = recordItem('DEBTOR', 'd1', 'frank', {
  name: 'V:Müller GmbH',
  street: 'V:Main St 1',
  city: 'V:Berlin',
  creditLimit: 500001,
  balance: 0,
});
// Each line's amount (quantity × unitPrice) is kept on the header, whose public shape shows their sum.
const amount = 700001 * 700002;
const order = recordItem('ORDER', 'o1', 'alice', {
  customer: 'V:ACME',
  status: 'draft',
  lineCount: 2,
  childAmounts: { L1: amount, L2: amount },
});
const line = (lineId: string, at: string, position: number, overrides: StoredItem = {}): StoredItem => ({
  pk: 'ORDER#o1',
  sk: `LINE#${lineId}`,
  lineId,
  sku: `V:SKU-${lineId}`,
  quantity: 700001,
  unitPrice: 700002,
  seq: `${at}#${String(position).padStart(4, '0')}`,
  ...overrides,
});

const keyRecord = (at: number): StoredItem => ({
  pk: 'IDEM#V:key-hash',
  sk: 'IDEM',
  at,
  state: 'done',
  answer: 'V:{"status":201}',
  expiresAt: 1_900_000_000,
});

const lock = (owner: string, token: string, acquiredAt: string, expiresAt: string) => ({
  token,
  owner,
  acquiredAt,
  expiresAt,
  until: Date.parse(expiresAt),
});

describe('a record created, changed and deleted', () => {
  it('a create is `created`, by its creator, when it was made; its key record is no event', () => {
    expect(strip(eventsOf([insert(keyRecord(1)), insert(annotation())], received))).toEqual([
      { resource: 'annotations', id: 'a1', version: 1, at: t(0), by: 'alice', kind: 'created' },
    ]);
  });

  it('a change is `changed` with the names of the fields whose values changed, never bookkeeping', () => {
    const before = annotation();
    const after = annotation({
      name: 'V:Cell 4 (mitosis)',
      search: 'v:cell 4 (mitosis)',
      tags: ['V:draft'],
      '@v2': '2|attempt-one',
      ...audited(2, 'bob', t(1)),
    });

    expect(strip(eventsOf([modify(before, after)], received))).toEqual([
      {
        resource: 'annotations',
        id: 'a1',
        version: 2,
        at: t(1),
        by: 'bob',
        kind: 'changed',
        fields: ['name', 'tags'],
        groups: [],
      },
    ]);
  });

  it('a field removed is a field changed', () => {
    const before = annotation({ description: 'V:long text' });
    const after = annotation({ ...audited(2, 'bob', t(1)) });

    expect(strip(eventsOf([modify(before, after)], received))).toEqual([
      expect.objectContaining({ kind: 'changed', fields: ['description'], version: 2 }),
    ]);
  });

  it("a field-group PATCH names the groups of a debtor's changed fields", () => {
    const before = debtor();
    const after = debtor({ street: 'V:Side St 2', city: 'V:Hamburg', ...audited(2, 'frank', t(1)) });
    const credit = debtor({
      street: 'V:Side St 2',
      city: 'V:Hamburg',
      creditLimit: 500002,
      ...audited(3, 'erin', t(2)),
    });

    expect(strip(eventsOf([modify(before, after), modify(after, credit)], received))).toEqual([
      {
        resource: 'debtors',
        id: 'd1',
        version: 2,
        at: t(1),
        by: 'frank',
        kind: 'changed',
        fields: ['city', 'street'],
        groups: ['address'],
      },
      {
        resource: 'debtors',
        id: 'd1',
        version: 3,
        at: t(2),
        by: 'erin',
        kind: 'changed',
        fields: ['creditLimit'],
        groups: ['credit'],
      },
    ]);
  });

  it('a delete is `deleted`, by whom and when the tombstone says; the tombstone fading away (TTL) is no event', () => {
    const live = annotation({ description: 'V:kept on the tombstone' });
    const { gsi1pk: _pk, gsi1sk: _sk, search: _search, ...unlisted } = live;
    const tombstone = {
      ...unlisted,
      deletedAt: t(3),
      deletedBy: 'carol',
      expiresAt: 1_800_000_000,
      ...audited(2, 'carol', t(3)),
    };

    expect(
      strip(
        eventsOf(
          [
            modify(live, tombstone),
            modify(tombstone, { ...tombstone, expiresAt: 1_800_000_001 }),
            remove(tombstone),
          ],
          received,
        ),
      ),
    ).toEqual([{ resource: 'annotations', id: 'a1', version: 2, at: t(3), by: 'carol', kind: 'deleted' }]);
  });

  it('an item removed outside the API is `deleted`, by nobody the item names, when the consumer read it', () => {
    expect(strip(eventsOf([remove(annotation({ ...audited(4, 'bob', t(1)) }))], received))).toEqual([
      { resource: 'annotations', id: 'a1', version: 4, at: received, kind: 'deleted' },
    ]);
  });

  it('a console edit that left version and audit fields is `changed` with its fields, by nobody, when read', () => {
    expect(strip(eventsOf([modify(annotation(), annotation({ name: 'V:typo fixed' }))], received))).toEqual([
      {
        resource: 'annotations',
        id: 'a1',
        version: 1,
        at: received,
        kind: 'changed',
        fields: ['name'],
        groups: [],
      },
    ]);
  });

  it('bookkeeping alone (an attempt register, a key record, a search copy) is no event', () => {
    const before = annotation();
    const after = annotation({ '@w0': '000001796550000000|attempt', '@wv0': 1, search: 'v:cell  4' });

    expect(
      eventsOf([modify(before, after), insert(keyRecord(2)), modify(keyRecord(2), keyRecord(3))], received),
    ).toEqual([]);
  });
});

describe('counters', () => {
  it('a posting is a `movement` of the balance: the delta and the new value, nothing else', () => {
    const before = debtor({ balance: -100 });
    const after = debtor({ balance: -12600, ...audited(2, 'erin', t(1)) });

    expect(strip(eventsOf([insert(keyRecord(1)), modify(before, after)], received))).toEqual([
      {
        resource: 'debtors',
        id: 'd1',
        version: 2,
        at: t(1),
        by: 'erin',
        kind: 'movement',
        movement: { field: 'balance', delta: -12500, value: -12600 },
      },
    ]);
  });

  it("a deposit moves the account's balance; its ledger entry and key record are no events", () => {
    const account = (balance: number, version: number, at: string): StoredItem => ({
      pk: 'ACCOUNT#EUR-x1',
      sk: 'RECORD',
      id: 'EUR-x1',
      name: 'V:Till',
      currency: 'EUR',
      balance,
      createdAt: t(0),
      createdBy: 'erin',
      ...audited(version, 'erin', at),
    });
    const entry: StoredItem = {
      pk: 'ACCOUNT#EUR-x1',
      sk: `ENTRY#${t(1)}#e1`,
      entryId: 'e1',
      accountId: 'EUR-x1',
      amount: 420,
      kind: 'deposit',
      reference: 'V:teller 1',
      createdAt: t(1),
      createdBy: 'erin',
    };

    expect(
      strip(
        eventsOf(
          [insert(keyRecord(1)), modify(account(0, 1, t(0)), account(420, 2, t(1))), insert(entry)],
          received,
        ),
      ),
    ).toEqual([
      {
        resource: 'accounts',
        id: 'EUR-x1',
        version: 2,
        at: t(1),
        by: 'erin',
        kind: 'movement',
        movement: { field: 'balance', delta: 420, value: 420 },
      },
    ]);
  });

  it("a stock movement moves an article's stock", () => {
    const article = (inStock: number, version: number): StoredItem => ({
      pk: 'ARTICLE#BOLT-1',
      sk: 'RECORD',
      id: 'BOLT-1',
      description: 'V:Bolt',
      inStock,
      createdAt: t(0),
      createdBy: 'paul',
      ...audited(version, version === 1 ? 'paul' : 'walt', t(version - 1)),
    });

    expect(strip(eventsOf([modify(article(5, 1), article(2, 2))], received))).toEqual([
      {
        resource: 'articles',
        id: 'BOLT-1',
        version: 2,
        at: t(1),
        by: 'walt',
        kind: 'movement',
        movement: { field: 'inStock', delta: -3, value: 2 },
      },
    ]);
  });
});

describe('an order: header and lines in one transaction', () => {
  const l1 = line('L1', t(0), 0);
  const l2 = line('L2', t(0), 1);

  it('an order created with its lines is one `created`', () => {
    expect(
      strip(eventsOf([insert(keyRecord(1)), insert(order()), insert(l1), insert(l2)], received)),
    ).toEqual([{ resource: 'orders', id: 'o1', version: 1, at: t(0), by: 'alice', kind: 'created' }]);
  });

  it("a line changed: one event for the header, with the line and its changed fields (the total is the lines', not a header field)", () => {
    const after = order({
      '@v2': '2|x',
      childAmounts: { L1: 700003 * 700002, L2: amount },
      ...audited(2, 'bob', t(1)),
    });

    expect(
      strip(eventsOf([modify(order(), after), modify(l1, { ...l1, quantity: 700003 })], received)),
    ).toEqual([
      {
        resource: 'orders',
        id: 'o1',
        version: 2,
        at: t(1),
        by: 'bob',
        kind: 'changed',
        fields: [],
        groups: ['lines'],
        lines: [{ lineId: 'L1', change: 'changed', fields: ['quantity'] }],
      },
    ]);
  });

  it('the stream may put the line first: the same one event', () => {
    const after = order({
      lineCount: 3,
      childAmounts: { L1: amount, L2: amount, L3: amount },
      ...audited(2, 'bob', t(1)),
    });
    const added = line('L3', t(1), 0);

    expect(strip(eventsOf([insert(added), modify(order(), after)], received))).toEqual([
      {
        resource: 'orders',
        id: 'o1',
        version: 2,
        at: t(1),
        by: 'bob',
        kind: 'changed',
        fields: [],
        groups: ['lines'],
        lines: [{ lineId: 'L3', change: 'added' }],
      },
    ]);
  });

  it('a replacement that changes the header and adds, changes and removes lines is one event with all of it', () => {
    const after = order({ customer: 'V:ACME Ltd', notes: 'V:rush', ...audited(2, 'alice', t(2)) });
    const added = line('L3', t(2), 0);

    expect(
      strip(
        eventsOf(
          [
            modify(order(), after),
            modify(l1, { ...l1, sku: 'V:SKU-other', unitPrice: 700004 }),
            remove(l2),
            insert(added),
            insert(keyRecord(1)),
          ],
          received,
        ),
      ),
    ).toEqual([
      {
        resource: 'orders',
        id: 'o1',
        version: 2,
        at: t(2),
        by: 'alice',
        kind: 'changed',
        fields: ['customer', 'notes'],
        groups: ['header', 'lines'],
        lines: [
          { lineId: 'L1', change: 'changed', fields: ['sku', 'unitPrice'] },
          { lineId: 'L2', change: 'removed' },
          { lineId: 'L3', change: 'added' },
        ],
      },
    ]);
  });

  it('a transition is a header change of its status', () => {
    const after = order({ status: 'approved', ...audited(2, 'carol', t(1)) });

    expect(strip(eventsOf([modify(order(), after)], received))).toEqual([
      {
        resource: 'orders',
        id: 'o1',
        version: 2,
        at: t(1),
        by: 'carol',
        kind: 'changed',
        fields: ['status'],
        groups: ['header'],
      },
    ]);
  });

  it('a transaction split across batches: the header alone still says its lines changed; lines alone are no event', () => {
    const after = order({ lineCount: 1, ...audited(2, 'bob', t(1)) });

    expect(strip(eventsOf([modify(order(), after)], received))).toEqual([
      {
        resource: 'orders',
        id: 'o1',
        version: 2,
        at: t(1),
        by: 'bob',
        kind: 'changed',
        fields: [],
        groups: ['lines'],
      },
    ]);
    expect(eventsOf([remove(l2), modify(l1, { ...l1, quantity: 1 })], received)).toEqual([]);
  });

  it('two changes of one order in a batch: an added line joins the change made when it was added; a changed line, which could be either, joins neither', () => {
    const v2 = order({ lineCount: 3, ...audited(2, 'bob', t(1)) });
    const v3 = order({ lineCount: 3, ...audited(3, 'alice', t(2)) });
    const added = line('L3', t(1), 0);

    expect(
      strip(
        eventsOf(
          [modify(order(), v2), insert(added), modify(v2, v3), modify(l1, { ...l1, quantity: 9 })],
          received,
        ),
      ),
    ).toEqual([
      {
        resource: 'orders',
        id: 'o1',
        version: 2,
        at: t(1),
        by: 'bob',
        kind: 'changed',
        fields: [],
        groups: ['lines'],
        lines: [{ lineId: 'L3', change: 'added' }],
      },
      {
        resource: 'orders',
        id: 'o1',
        version: 3,
        at: t(2),
        by: 'alice',
        kind: 'changed',
        fields: [],
        groups: ['lines'],
      },
    ]);
  });
});

describe('locks: the version stays, the lock changes', () => {
  const unlocked = annotation({ ...audited(3, 'bob', t(1)), lockFence: 1 });
  const aliceLock = lock('alice', 'V:token-1', t(4), '2026-12-06T10:05:04.000Z');
  const locked = {
    ...unlocked,
    lock: aliceLock,
    lockFence: 2,
    '@l0': '000001796550000000|op1',
    '@lf0': 2,
    '@la0': t(4),
  };

  it('taken: by its holder, when, until when; never its token', () => {
    expect(strip(eventsOf([modify(unlocked, locked)], received))).toEqual([
      {
        resource: 'annotations',
        id: 'a1',
        version: 3,
        at: t(4),
        by: 'alice',
        kind: 'lock',
        lock: { action: 'taken', owner: 'alice', expiresAt: '2026-12-06T10:05:04.000Z' },
      },
    ]);
  });

  it('renewed: the same token, a new expiry', () => {
    const renewed = { ...locked, lock: { ...aliceLock, expiresAt: '2026-12-06T10:09:00.000Z', until: 1 } };

    expect(strip(eventsOf([modify(locked, renewed)], received))).toEqual([
      {
        resource: 'annotations',
        id: 'a1',
        version: 3,
        at: received,
        by: 'alice',
        kind: 'lock',
        lock: { action: 'renewed', owner: 'alice', expiresAt: '2026-12-06T10:09:00.000Z' },
      },
    ]);
  });

  it('released or broken: whose it was; the item does not say who removed it', () => {
    const { lock: _lock, ...released } = locked;

    expect(strip(eventsOf([modify(locked, { ...released, '@l1': 'older' })], received))).toEqual([
      {
        resource: 'annotations',
        id: 'a1',
        version: 3,
        at: received,
        kind: 'lock',
        lock: { action: 'released', owner: 'alice' },
      },
    ]);
  });

  it('taken over after it expired: the new holder, and whose it was', () => {
    const bobLock = lock('bob', 'V:token-2', t(8), '2026-12-06T10:10:08.000Z');

    expect(strip(eventsOf([modify(locked, { ...locked, lock: bobLock, lockFence: 3 })], received))).toEqual([
      {
        resource: 'annotations',
        id: 'a1',
        version: 3,
        at: t(8),
        by: 'bob',
        kind: 'lock',
        lock: {
          action: 'taken',
          owner: 'bob',
          expiresAt: '2026-12-06T10:10:08.000Z',
          previousOwner: 'alice',
        },
      },
    ]);
  });

  it('taken again by its holder (a fresh token): taken, with nobody before', () => {
    const again = lock('alice', 'V:token-3', t(6), '2026-12-06T10:06:06.000Z');

    expect(strip(eventsOf([modify(locked, { ...locked, lock: again, lockFence: 3 })], received))).toEqual([
      expect.objectContaining({
        lock: { action: 'taken', owner: 'alice', expiresAt: '2026-12-06T10:06:06.000Z' },
      }),
    ]);
  });

  it("an order's lock is the same", () => {
    const { lock: _lock, ...free } = { ...order(), lock: aliceLock };

    expect(strip(eventsOf([modify(free, { ...free, lock: aliceLock })], received))).toEqual([
      expect.objectContaining({ resource: 'orders', id: 'o1', version: 1, kind: 'lock' }),
    ]);
  });
});

describe('what an event never carries', () => {
  it('no value of a record, a line, a ledger entry or a key record, no lock token: only names, who, when, versions, the holder and a counter', () => {
    const all = eventsOf(
      [
        insert(annotation()),
        modify(
          annotation(),
          annotation({ name: 'V:new', description: 'V:secret', ...audited(2, 'bob', t(1)) }),
        ),
        modify(debtor(), debtor({ creditLimit: 500009, street: 'V:Side', ...audited(2, 'erin', t(1)) })),
        modify(order(), order({ customer: 'V:Other', ...audited(2, 'bob', t(1)) })),
        modify(line('L1', t(0), 0), line('L1', t(0), 0, { quantity: 700009, sku: 'V:changed' })),
        insert(line('L9', t(1), 0)),
        modify(
          annotation({ ...audited(2, 'bob', t(1)) }),
          annotation({ ...audited(2, 'bob', t(1)), lock: lock('bob', 'V:the-token', t(2), t(9)) }),
        ),
        insert(keyRecord(5)),
      ],
      received,
    );
    const text = JSON.stringify(all);

    expect(all.map((event) => event.kind)).toEqual(['created', 'changed', 'changed', 'changed', 'lock']);
    expect(text).not.toMatch(/V:|7000\d\d|5000\d\d/);
  });
});

describe('records as Lambda hands them over', () => {
  it('are read from their marshalled images, sequence number and all', () => {
    const before = annotation();
    const after = annotation({ name: 'V:Lambda', ...audited(2, 'bob', t(1)) });

    expect(
      fromLambdaRecord({
        eventID: 'e1',
        eventName: 'MODIFY',
        eventSource: 'aws:dynamodb',
        dynamodb: {
          ApproximateCreationDateTime: 1_796_550_000,
          Keys: marshall({ pk: 'ANNOTATION#a1', sk: 'RECORD' }) as never,
          OldImage: marshall(before) as never,
          NewImage: marshall(after) as never,
          SequenceNumber: '000000000000000000042',
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      }),
    ).toEqual({
      eventName: 'MODIFY',
      seq: '000000000000000000042',
      keys: { pk: 'ANNOTATION#a1', sk: 'RECORD' },
      oldImage: before,
      newImage: after,
    });
    expect(fromLambdaRecord({ eventName: 'MODIFY', dynamodb: {} })).toBeUndefined();
  });
});
