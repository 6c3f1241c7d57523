import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../lib/client/api-client';
import { createLiveClient, type LiveNotice } from '../../lib/client/live-client';
import { tableName } from '../../lib/db/table-name';
import { type ChangeRecord, eventsOf } from '../../lib/live/events';
import type { ServerMessage } from '../../lib/live/protocol';
import { readStream } from '../../lib/live/stream-reader';
import { useApi } from '../support/api';
import { changeOf, type Subscriber, subscribe, watchPublished } from '../support/live';

/**
 * The live channel end to end, locally: writes through the API, DynamoDB Local's stream, the
 * local server's consumer and its WebSockets. Every expectation waits for the messages it
 * needs; none waits for time to pass.
 */
const api = useApi({ live: true });
let tokens: Record<'alice' | 'bob' | 'carol' | 'erin' | 'sam', string>;
let published: ReturnType<typeof watchPublished>;
let alice: ApiClient;
let erin: ApiClient;
const open: Subscriber[] = [];
const connect = async (token: string, topics: string[]) => {
  const subscriber = await subscribe(api.liveUrl, token, topics);
  open.push(subscriber);
  return subscriber;
};
afterEach(() => {
  for (const subscriber of open.splice(0)) subscriber.close();
});

beforeAll(async () => {
  tokens = {
    alice: await api.tokenFor('alice', 'sales'),
    bob: await api.tokenFor('bob', 'sales'),
    carol: await api.tokenFor('carol', 'supervisor'),
    erin: await api.tokenFor('erin', 'finance'),
    sam: await api.tokenFor('sam', 'sales'),
  };
  alice = api.client(tokens.alice);
  erin = api.client(tokens.erin);
  if (api.live) published = watchPublished(api.live);
});

const changes = (subscriber: Subscriber, id: string) =>
  subscriber.events().filter((event) => event.id === id);

describe('a write through the API, as its subscribers hear it', () => {
  it('reaches every subscriber of its record or list exactly once, in version order, and a redelivered stream batch reaches nobody again', async () => {
    const created = await alice.createAnnotation({ name: 'Live one' });
    const { id } = created;
    await published.reached(id, 1);
    const onRecord = await connect(tokens.bob, [`record/annotations/${id}`]);
    const onList = await connect(tokens.carol, ['list/annotations']);
    const onBoth = await connect(tokens.sam, [`record/annotations/${id}`, 'list/annotations']);
    // The stream as the consumer read it, kept to hand it over a second time.
    const seen: ChangeRecord[] = [];
    const tap = readStream({
      endpoint: process.env.DYNAMODB_ENDPOINT ?? '',
      tableName: process.env.TABLE_NAME ?? '',
      onRecords: async (records) => {
        seen.push(...records);
      },
    });
    await tap.ready;

    await alice.patchAnnotation(id, 1, { description: 'first' });
    await alice.patchAnnotation(id, 2, { tags: ['a'], name: 'Live one!' });
    const locked = await alice.call('POST /annotations/{id}/lock', {
      params: { id },
      body: { ttlSeconds: 60 },
    });
    await alice.call('DELETE /annotations/{id}/lock', { params: { id }, lockToken: locked.body.token });
    await alice.call('DELETE /annotations/{id}', { params: { id }, ifMatch: 3 });
    for (const subscriber of [onRecord, onList, onBoth])
      await subscriber.until((messages) =>
        messages.some((message) => message.type === 'change' && message.event.kind === 'deleted'),
      );
    await tap.stop();

    // The same stream records again, as Lambda hands a batch over again after a failure.
    await api.live?.channel.publish(eventsOf(seen, new Date().toISOString()));
    // A later change: everything before it has been delivered by the time it arrives.
    const other = await alice.createAnnotation({ name: 'Sentinel' });
    const sentinel = await alice.patchAnnotation(other.id, 1, { name: 'Sentinel!' });
    for (const subscriber of [onList, onBoth]) await subscriber.until(changeOf(other.id, sentinel.version));

    const expected = [
      { version: 2, kind: 'changed', by: 'alice', fields: ['description'], groups: [] },
      { version: 3, kind: 'changed', by: 'alice', fields: ['name', 'tags'], groups: [] },
      {
        version: 3,
        kind: 'lock',
        by: 'alice',
        lock: { action: 'taken', owner: 'alice', expiresAt: locked.body.expiresAt },
      },
      { version: 3, kind: 'lock', lock: { action: 'released', owner: 'alice' } },
      { version: 4, kind: 'deleted', by: 'alice' },
    ];
    for (const subscriber of [onRecord, onList, onBoth]) {
      const heard = changes(subscriber, id);
      expect(heard.map(({ seq: _s, at: _a, resource: _r, id: _i, ...rest }) => rest)).toEqual(expected);
      expect(new Set(heard.map((event) => event.seq)).size).toBe(expected.length);
      expect(heard.every((event) => event.resource === 'annotations' && event.id === id)).toBe(true);
    }
    // No lock token in anything sent.
    expect(JSON.stringify(onList.messages)).not.toContain(locked.body.token);
  });

  it('an order line change in its transaction is one event, with the line, for the record and its list', async () => {
    const order = await alice.createOrder({
      customer: 'ACME',
      lines: [
        { sku: 'BOLT', quantity: 10, unitPrice: 25 },
        { sku: 'NUT', quantity: 10, unitPrice: 5 },
      ],
    });
    const [bolt, nut] = order.lines;
    await published.reached(order.id, 1);
    const watcher = await connect(tokens.bob, [`record/orders/${order.id}`, 'list/orders']);

    // One change at a time, each heard before the next is made: the stream does not keep two
    // transactions of one order apart when they share a batch (docs/live.md), one per batch it does.
    const heard = (version: number) => watcher.until(changeOf(order.id, version));
    await alice.patchLine(order.id, bolt?.lineId ?? '', 1, { quantity: 20 });
    await heard(2);
    const added = await alice.addLine(order.id, 2, { sku: 'WASHER', quantity: 1, unitPrice: 1 });
    await heard(3);
    await alice.call('DELETE /orders/{id}/lines/{lineId}', {
      params: { id: order.id, lineId: nut?.lineId ?? '' },
      ifMatch: 3,
    });
    await heard(4);
    await alice.call('PATCH /orders/{id}', { params: { id: order.id }, ifMatch: 4, body: { notes: 'rush' } });
    await heard(5);
    const carol = api.client(tokens.carol);
    await carol.transition(order.id, 5, 'approved');
    await watcher.until(changeOf(order.id, 6));

    expect(
      changes(watcher, order.id).map(({ version, kind, fields, groups, lines }) => ({
        version,
        kind,
        fields,
        groups,
        lines,
      })),
    ).toEqual([
      {
        version: 2,
        kind: 'changed',
        fields: [],
        groups: ['lines'],
        lines: [{ lineId: bolt?.lineId, change: 'changed', fields: ['quantity'] }],
      },
      {
        version: 3,
        kind: 'changed',
        fields: [],
        groups: ['lines'],
        lines: [{ lineId: added.line?.lineId, change: 'added' }],
      },
      {
        version: 4,
        kind: 'changed',
        fields: [],
        groups: ['lines'],
        lines: [{ lineId: nut?.lineId, change: 'removed' }],
      },
      { version: 5, kind: 'changed', fields: ['notes'], groups: ['header'], lines: undefined },
      { version: 6, kind: 'changed', fields: ['status'], groups: ['header'], lines: undefined },
    ]);
  });
});

describe('what the local stream reader reads', () => {
  it('an order made without lines (its empty map of line amounts, which the local stream writes as `{}`) is heard, and every change after it', async () => {
    const watcher = await connect(tokens.bob, ['list/orders']);
    const order = await alice.createOrder({ customer: 'No lines yet' });
    await watcher.until(changeOf(order.id, 1));
    await alice.addLine(order.id, 1, { sku: 'BOLT', quantity: 2, unitPrice: 25 });
    await watcher.until(changeOf(order.id, 2));
    expect(changes(watcher, order.id).map(({ version, kind }) => [version, kind])).toEqual([
      [1, 'created'],
      [2, 'changed'],
    ]);
  });

  it('a record it cannot read (a number JavaScript cannot hold, written outside the API) is left out, and the changes after it are heard', async () => {
    const watcher = await connect(tokens.bob, ['list/annotations']);
    const raw = new DynamoDBClient({
      endpoint: process.env.DYNAMODB_ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await raw.send(
        new PutItemCommand({
          TableName: tableName(),
          Item: {
            pk: { S: 'ANNOTATION#huge' },
            sk: { S: 'RECORD' },
            id: { S: 'huge' },
            size: { N: '12345678901234567890.5' },
          },
        }),
      );
    } finally {
      raw.destroy();
    }
    const after = await alice.createAnnotation({ name: 'After the unreadable one' });
    await watcher.until(changeOf(after.id, 1));
    expect(watcher.events().map(({ id, kind }) => [id, kind])).toEqual([[after.id, 'created']]);
  });
});

describe('who hears what', () => {
  it('a subscriber without the role is refused the topic and hears nothing of it; one with it hears the movement', async () => {
    const account = (await erin.call('POST /accounts', { body: { name: 'Till', currency: 'EUR' } })).body;
    const note = await alice.createAnnotation({ name: 'For sales' });
    await published.reached(account.id, 1);
    await published.reached(note.id, 1);
    const topics = [`record/accounts/${account.id}`, 'list/accounts', `record/annotations/${note.id}`];
    const sales = await connect(tokens.bob, topics);
    const finance = await connect(tokens.erin, topics);
    const supervisor = await connect(tokens.carol, topics);

    const deposit = await erin.call('POST /accounts/{id}/deposits', {
      params: { id: account.id },
      body: { amount: 420 },
    });
    await alice.patchAnnotation(note.id, 1, { description: 'after the deposit' });
    for (const subscriber of [sales, finance, supervisor]) await subscriber.until(changeOf(note.id, 2));

    const subscribed = (subscriber: Subscriber) =>
      subscriber.messages.find((message) => message.type === 'subscribed');
    expect([subscribed(sales), subscribed(finance), subscribed(supervisor)]).toEqual([
      { type: 'subscribed', topics: [`record/annotations/${note.id}`], refused: topics.slice(0, 2) },
      { type: 'subscribed', topics, refused: [] },
      { type: 'subscribed', topics, refused: [] },
    ]);
    const movement = {
      resource: 'accounts',
      id: account.id,
      version: 2,
      kind: 'movement',
      by: 'erin',
      movement: { field: 'balance', delta: 420, value: 420 },
    };
    expect(deposit.body.balance).toBe(420);
    expect(finance.events().map(({ seq: _s, at: _a, ...rest }) => rest)).toEqual([
      movement,
      expect.objectContaining({ id: note.id, version: 2 }),
    ]);
    expect(supervisor.events().map(({ seq: _s, at: _a, ...rest }) => rest)).toEqual(
      finance.events().map(({ seq: _s, at: _a, ...rest }) => rest),
    );
    expect(sales.events().map((event) => [event.resource, event.id, event.version])).toEqual([
      ['annotations', note.id, 2],
    ]);
    expect(JSON.stringify(sales.messages.filter((message) => message.type !== 'subscribed'))).not.toContain(
      account.id,
    );
  });

  it('a connection without a valid token is refused before it opens', async () => {
    const refused = await subscribe(api.liveUrl, 'not-a-token', []).then(
      () => 'opened',
      (error: Error) => error.message,
    );
    expect(refused).toBe(`Could not connect to ${api.liveUrl}`);
  });
});

describe('presence', () => {
  it('who has a record open and who is editing it reaches the record and its list, and is gone when the tab closes; the record is not written', async () => {
    const note = await alice.createAnnotation({ name: 'Busy' });
    const recordTopic = `record/annotations/${note.id}`;
    const watcher = await connect(tokens.carol, ['list/annotations']);
    const bob = await connect(tokens.bob, [recordTopic]);
    const people = (subscriber: Subscriber) =>
      subscriber.messages.flatMap((message) =>
        message.type === 'presence' && message.id === note.id
          ? [message.people.map(({ sub, state }) => `${sub}:${state}`).join(',')]
          : [],
      );
    const lastPeople = (subscriber: Subscriber, text: string) => (messages: ServerMessage[]) =>
      people({ ...subscriber, messages }).at(-1) === text;

    bob.send({ action: 'presence', resource: 'annotations', id: note.id, state: 'viewing' });
    await watcher.until(lastPeople(watcher, 'bob:viewing'));
    const aliceSocket = await connect(tokens.alice, [recordTopic]);
    // Whoever subscribes is told at once who is there.
    await aliceSocket.until(lastPeople(aliceSocket, 'bob:viewing'));
    aliceSocket.send({ action: 'presence', resource: 'annotations', id: note.id, state: 'editing' });
    await bob.until(lastPeople(bob, 'alice:editing'));
    await watcher.until(lastPeople(watcher, 'bob:viewing,alice:editing'));
    aliceSocket.close();
    await bob.until(lastPeople(bob, ''));
    await watcher.until(lastPeople(watcher, 'bob:viewing'));

    expect(people(watcher)).toEqual(['bob:viewing', 'bob:viewing,alice:editing', 'bob:viewing']);
    expect(people(bob)).toEqual(['alice:editing', '']);
    expect(await alice.getAnnotation(note.id)).toMatchObject({ version: 1 });
  });
});

describe('the typed live client', () => {
  it('reconnects after the channel was cut, re-reads what it missed, and goes on hearing changes', async () => {
    const note = await alice.createAnnotation({ name: 'Catch up' });
    await published.reached(note.id, 1);
    const versions: number[] = [];
    const notices: LiveNotice['type'][] = [];
    let wake: () => void = () => undefined;
    const next = (holds: () => boolean) =>
      new Promise<void>((done) => {
        wake = () => {
          if (holds()) done();
        };
        wake();
      });
    const read = async () => {
      versions.push((await alice.getAnnotation(note.id)).version);
      wake();
    };
    const client = createLiveClient({
      url: api.liveUrl,
      token: () => tokens.bob,
      backoff: { initialMs: 20, maxMs: 100 },
    });
    const statuses: string[] = [];
    client.onStatus((status) => {
      statuses.push(status);
      wake();
    });
    client.watch(`record/annotations/${note.id}`, (notice) => {
      notices.push(notice.type);
      void read();
    });
    await next(() => versions.length === 1);

    api.live?.suspend();
    await next(() => statuses.includes('down'));
    const missed = new Promise<void>((done) => {
      const stop = api.live?.onPublished((events) => {
        if (!events.some((event) => event.id === note.id && event.version === 3)) return;
        stop?.();
        done();
      });
    });
    await alice.patchAnnotation(note.id, 1, { description: 'missed' });
    await alice.patchAnnotation(note.id, 2, { description: 'missed again' });
    await missed;
    api.live?.resume();
    await next(() => versions.includes(3));
    await alice.patchAnnotation(note.id, 3, { description: 'heard' });
    await next(() => versions.includes(4));
    client.close();

    expect(notices).toEqual(['resync', 'resync', 'change']);
    expect(versions).toEqual([1, 3, 4]);
  });
});
