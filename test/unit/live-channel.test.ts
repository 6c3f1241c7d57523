import { describe, expect, it } from 'vitest';
import { accountEntity } from '../../lib/domain/accounts';
import { annotationEntity } from '../../lib/domain/annotations';
import { articleEntity, debtorEntity, orderEntity } from '../../lib/domain/catalog';
import { type Role, roles } from '../../lib/domain/roles';
import { maySubscribe } from '../../lib/live/access';
import {
  type Connection,
  createChannel,
  parseClientMessage,
  peopleFor,
  type Sender,
} from '../../lib/live/channel';
import { memoryStore } from '../../lib/live/memory-store';
import {
  type LiveEvent,
  parseTopic,
  recordTypes,
  resources,
  type ServerMessage,
} from '../../lib/live/protocol';

/** The channel over the in-memory store, with a sender that keeps what each connection was sent. */
const harness = (now = new Date('2026-12-06T10:00:00Z')) => {
  const sent = new Map<string, ServerMessage[]>();
  const gone = new Set<string>();
  const sender: Sender = {
    send: async (connectionId, message) => {
      if (gone.has(connectionId)) return false;
      sent.set(connectionId, [...(sent.get(connectionId) ?? []), message]);
      return true;
    },
    close: async (connectionId, reason) => {
      sent.set(connectionId, [...(sent.get(connectionId) ?? []), { type: 'closing', reason }]);
    },
  };
  const store = memoryStore();
  const channel = createChannel(store, sender, () => now);
  const join = async (connectionId: string, sub: string, roles: Role[], topics: string[]) => {
    const connection: Connection = { connectionId, sub, roles, expiresAt: now.getTime() + 60_000 };
    await channel.connect(connection);
    if (topics.length > 0)
      await channel.receive(connectionId, JSON.stringify({ action: 'subscribe', topics }));
    return connection;
  };
  const changes = (connectionId: string) =>
    (sent.get(connectionId) ?? []).flatMap((message) => (message.type === 'change' ? [message.event] : []));
  return { channel, store, sent, gone, join, changes };
};

const event = (overrides: Partial<LiveEvent>): LiveEvent => ({
  seq: '1',
  resource: 'annotations',
  id: 'a1',
  version: 2,
  at: '2026-12-06T10:00:00.000Z',
  by: 'alice',
  kind: 'changed',
  fields: ['name'],
  groups: [],
  ...overrides,
});

describe('topics and who may subscribe to them', () => {
  it('the record types of the events are the entities the domain writes', () => {
    expect(recordTypes).toEqual({
      annotations: annotationEntity.type,
      orders: orderEntity.type,
      debtors: debtorEntity.type,
      articles: articleEntity.type,
      accounts: accountEntity.type,
    });
  });

  it('each role may hear exactly the resources it may read: accounts only finance and supervisors', () => {
    const table = Object.fromEntries(
      roles.map((role) => [
        role,
        resources.filter(
          (resource) =>
            maySubscribe(`record/${resource}/x`, [role]) && maySubscribe(`list/${resource}`, [role]),
        ),
      ]),
    );
    const everyone = ['annotations', 'orders', 'debtors', 'articles'];

    expect(table).toEqual({
      sales: everyone,
      purchasing: everyone,
      warehouse: everyone,
      finance: [...everyone, 'accounts'],
      'customer-relations': everyone,
      supervisor: [...everyone, 'accounts'],
    });
    expect(resources.filter((resource) => maySubscribe(`record/${resource}/x`, []))).toEqual(everyone);
  });

  it('text that is no topic is refused', () => {
    expect(
      ['record/annotations/', 'list/annotations/x', 'record/users/1', 'ANNOTATION#x', 'list', ''].map(
        (topic) => parseTopic(topic),
      ),
    ).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(parseTopic('record/orders/a/b')).toEqual({ kind: 'record', resource: 'orders', id: 'a/b' });
  });

  it('a message that is not one of the protocol is nothing', () => {
    expect(
      [
        'not json',
        '{"action":"subscribe"}',
        '{"action":"subscribe","topics":["list/orders"],"extra":1}',
        '{"action":"presence","resource":"users","id":"x","state":"viewing"}',
        '{"action":"presence","resource":"orders","id":"x","state":"sleeping"}',
      ].map(parseClientMessage),
    ).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(parseClientMessage('{"action":"ping"}')).toEqual({ action: 'ping' });
  });
});

describe('publishing', () => {
  it('an account change reaches finance and supervisors, never sales: refused at subscribe, and not sent even to a subscription the store kept', async () => {
    const { channel, store, sent, join, changes } = harness();
    await join('fin', 'erin', ['finance'], ['list/accounts']);
    await join('sup', 'carol', ['supervisor'], ['record/accounts/EUR-1']);
    const sales = await join('sales', 'bob', ['sales'], ['list/accounts', 'record/accounts/EUR-1']);
    // A subscription that got into the store some other way (roles changed since, a bug):
    await store.subscribe(sales, ['list/accounts']);

    const deposit = event({
      resource: 'accounts',
      id: 'EUR-1',
      kind: 'movement',
      movement: { field: 'balance', delta: 5, value: 5 },
    });
    await channel.publish([deposit]);

    expect([changes('fin'), changes('sup'), changes('sales')]).toEqual([[deposit], [deposit], []]);
    expect(sent.get('sales')).toEqual([
      { type: 'subscribed', topics: [], refused: ['list/accounts', 'record/accounts/EUR-1'] },
    ]);
  });

  it('once per connection, subscribed to the record and its list alike, and once however often it is published', async () => {
    const { channel, join, changes } = harness();
    await join('both', 'bob', ['sales'], ['record/annotations/a1', 'list/annotations']);
    await join('other', 'sam', ['sales'], ['record/annotations/a2']);

    const first = event({ seq: '10' });
    const second = event({ seq: '11', version: 3 });
    await channel.publish([first, second]);
    await channel.publish([first, second]);

    expect([changes('both'), changes('other')]).toEqual([[first, second], []]);
  });

  it('a connection whose socket is gone is forgotten, with its presence', async () => {
    const { channel, gone, join, sent } = harness();
    await join('watcher', 'carol', ['supervisor'], ['list/orders']);
    await join('lost', 'bob', ['sales'], ['record/orders/o1']);
    await channel.receive(
      'lost',
      JSON.stringify({ action: 'presence', resource: 'orders', id: 'o1', state: 'editing' }),
    );
    gone.add('lost');

    await channel.publish([event({ resource: 'orders', id: 'o1', seq: '20' })]);

    expect(
      (sent.get('watcher') ?? []).flatMap((message) =>
        message.type === 'presence' ? [message.people.map((person) => person.sub)] : [],
      ),
    ).toEqual([['bob'], []]);
  });

  it('a connection whose token has expired is told so and closed, and hears nothing more', async () => {
    let now = new Date('2026-12-06T10:00:00Z');
    const sent = new Map<string, ServerMessage[]>();
    const channel = createChannel(
      memoryStore(),
      {
        send: async (id, message) => {
          sent.set(id, [...(sent.get(id) ?? []), message]);
          return true;
        },
        close: async (id, reason) => {
          sent.set(id, [...(sent.get(id) ?? []), { type: 'closing', reason }]);
        },
      },
      () => now,
    );
    await channel.connect({
      connectionId: 'c',
      sub: 'bob',
      roles: ['sales'],
      expiresAt: now.getTime() + 1000,
    });
    await channel.receive('c', JSON.stringify({ action: 'subscribe', topics: ['list/orders'] }));
    now = new Date(now.getTime() + 1000);
    await channel.publish([event({ resource: 'orders', seq: '30' })]);
    await channel.receive('c', JSON.stringify({ action: 'ping' }));

    expect(sent.get('c')).toEqual([
      { type: 'subscribed', topics: ['list/orders'], refused: [] },
      { type: 'closing', reason: 'The token has expired: connect again with a fresh one.' },
    ]);
  });
});

describe('presence', () => {
  it('each person once, editing if any of their windows is, since their first; the receiver itself left out; stale ones gone', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    const entry = (
      connectionId: string,
      sub: string,
      state: 'viewing' | 'editing',
      since: string,
      seenAt = now,
    ) => ({
      connectionId,
      sub,
      state,
      since,
      seenAt,
    });

    expect(
      peopleFor(
        [
          entry('c1', 'bob', 'viewing', '2026-12-06T09:59:00Z'),
          entry('c2', 'bob', 'editing', '2026-12-06T09:59:30Z'),
          entry('c3', 'alice', 'viewing', '2026-12-06T09:58:00Z'),
          entry('c4', 'carol', 'editing', '2026-12-06T09:50:00Z', now - 151_000),
          entry('me', 'sam', 'editing', '2026-12-06T09:40:00Z'),
        ],
        'me',
        now,
      ),
    ).toEqual([
      { sub: 'alice', state: 'viewing', since: '2026-12-06T09:58:00Z' },
      { sub: 'bob', state: 'editing', since: '2026-12-06T09:59:00Z' },
    ]);
  });

  it('presence on a record its user may not read is not taken', async () => {
    const { channel, join, sent } = harness();
    await join('fin', 'erin', ['finance'], ['record/accounts/EUR-1']);
    await join('sales', 'bob', ['sales'], []);

    await channel.receive(
      'sales',
      JSON.stringify({ action: 'presence', resource: 'accounts', id: 'EUR-1', state: 'viewing' }),
    );

    expect(sent.get('fin')).toEqual([{ type: 'subscribed', topics: ['record/accounts/EUR-1'], refused: [] }]);
  });
});
