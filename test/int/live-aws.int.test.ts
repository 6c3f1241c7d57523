import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HandlerExecutionContext } from '@smithy/types';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleSocket, type SocketEvent } from '../../lib/live/aws';
import { createChannel, type Sender } from '../../lib/live/channel';
import { connectionsTableSpec, liveTableAccess } from '../../lib/live/connections-spec';
import { consumeStream } from '../../lib/live/consumer';
import { dynamoStore } from '../../lib/live/dynamo-store';
import type { ServerMessage } from '../../lib/live/protocol';
import { readStream } from '../../lib/live/stream-reader';
import { useApi } from '../support/api';
import { streamThisTable } from '../support/table';

/**
 * The live channel as it runs in AWS (lib/live/aws.ts: the socket routes and the stream
 * consumer, over the connections table), against DynamoDB Local: the data table's real stream
 * handed over as Lambda hands it, the connections table made from its spec, and API Gateway's
 * management API replaced by a sender that keeps what each connection was sent.
 */
const api = useApi();
const endpoint = process.env.DYNAMODB_ENDPOINT ?? '';
const local = {
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};
const connectionsTable = `live-${randomUUID()}`;
const base = new DynamoDBClient(local);
const documents = DynamoDBDocumentClient.from(base);

/** The actions each part sends to the connections table, as IAM names them. */
let sentBy = 'nobody';
const sent = new Map<string, Set<string>>();
base.middlewareStack.add(
  ((next: (args: unknown) => Promise<unknown>, context: HandlerExecutionContext) => async (args: unknown) => {
    const actions = sent.get(sentBy) ?? new Set<string>();
    actions.add(`dynamodb:${String(context.commandName).replace(/Command$/, '')}`);
    sent.set(sentBy, actions);
    return next(args);
  }) as never,
  { step: 'initialize', name: 'recordActions' },
);

const messages = new Map<string, ServerMessage[]>();
const gone = new Set<string>();
/** Fails the nth send from now (a PostToConnection throttled past its retries). */
let failNth: number | undefined;
const sender: Sender = {
  send: async (connectionId, message) => {
    if (failNth !== undefined && --failNth === 0) {
      failNth = undefined;
      throw new Error('LimitExceededException');
    }
    if (gone.has(connectionId)) return false;
    messages.set(connectionId, [...(messages.get(connectionId) ?? []), message]);
    return true;
  },
  close: async () => undefined,
};
const live = createChannel(dynamoStore(documents, connectionsTable), sender);

/** The stream records of what `writes` did, until `done` holds, as Lambda hands them to the consumer. */
const streamOf = async (
  writes: () => Promise<unknown>,
  done: (records: DynamoDBRecord[]) => boolean,
): Promise<DynamoDBStreamEvent> => {
  const records: DynamoDBRecord[] = [];
  let wake: () => void = () => undefined;
  const reader = readStream({
    endpoint,
    tableName: process.env.TABLE_NAME ?? '',
    onRecords: async (batch) => {
      records.push(
        ...batch.map(
          (record): DynamoDBRecord => ({
            eventName: record.eventName,
            dynamodb: {
              SequenceNumber: record.seq,
              Keys: marshalled(record.keys),
              ...(record.oldImage ? { OldImage: marshalled(record.oldImage) } : {}),
              ...(record.newImage ? { NewImage: marshalled(record.newImage) } : {}),
            },
          }),
        ),
      );
      wake();
    },
  });
  await reader.ready;
  await writes();
  await new Promise<void>((resolve) => {
    wake = () => (done(records) ? resolve() : undefined);
    wake();
  });
  await reader.stop();
  return { Records: records };
};
const { marshall } = await import('@aws-sdk/util-dynamodb');
const marshalled = (item: Record<string, unknown>) =>
  marshall(item) as NonNullable<DynamoDBRecord['dynamodb']>['Keys'];

const socket = (
  routeKey: string,
  connectionId: string,
  body?: object,
  authorizer?: Record<string, string | number>,
) =>
  ({
    requestContext: { routeKey, connectionId, ...(authorizer ? { authorizer } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  }) as unknown as SocketEvent;
const connect = (
  connectionId: string,
  sub: string,
  groups: string[],
  claim: 'groups' | 'cognitoGroups' = 'groups',
) =>
  handleSocket(
    socket('$connect', connectionId, undefined, {
      sub,
      exp: Math.floor(Date.now() / 1000) + 3600,
      groups: claim === 'groups' ? JSON.stringify(groups) : 'null',
      cognitoGroups: claim === 'cognitoGroups' ? JSON.stringify(groups) : 'null',
    }),
    live,
  );
const changes = (connectionId: string) =>
  (messages.get(connectionId) ?? []).flatMap((message) =>
    message.type === 'change' ? [[message.event.resource, message.event.id, message.event.version]] : [],
  );

beforeAll(async () => {
  await streamThisTable();
  await base.send(
    new CreateTableCommand({
      TableName: connectionsTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: connectionsTableSpec.partitionKey, AttributeType: 'S' },
        { AttributeName: connectionsTableSpec.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: connectionsTableSpec.partitionKey, KeyType: 'HASH' },
        { AttributeName: connectionsTableSpec.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  await base.send(
    new UpdateTimeToLiveCommand({
      TableName: connectionsTable,
      TimeToLiveSpecification: { AttributeName: connectionsTableSpec.ttlAttribute, Enabled: true },
    }),
  );
});
afterAll(() => base.destroy());

describe('the live channel in AWS, over the connections table', () => {
  it('connects as the token’s user (groups from either claim), subscribes within its roles, hears each change once, even from a batch handed over again or failed part-way', async () => {
    const alice = api.client(await api.tokenFor('alice', 'sales'));
    const erin = api.client(await api.tokenFor('erin', 'finance'));
    sentBy = 'live-socket';
    await connect('c-bob', 'bob', ['sales']);
    await connect('c-carol', 'carol', ['supervisor'], 'cognitoGroups');
    const note = await alice.createAnnotation({ name: 'Over the table' });
    const account = (await erin.call('POST /accounts', { body: { name: 'AWS till', currency: 'EUR' } })).body;
    const topics = ['list/annotations', `record/accounts/${account.id}`];
    for (const connectionId of ['c-bob', 'c-carol'])
      await handleSocket(socket('$default', connectionId, { action: 'subscribe', topics }), live);

    sentBy = 'live-stream';
    const batch = await streamOf(
      async () => {
        await alice.patchAnnotation(note.id, 1, { description: 'one' });
        await erin.call('POST /accounts/{id}/deposits', { params: { id: account.id }, body: { amount: 5 } });
        await alice.patchAnnotation(note.id, 2, { description: 'two' });
      },
      (records) =>
        records.some(
          (record) =>
            record.dynamodb?.NewImage?.pk?.S === `ANNOTATION#${note.id}` &&
            record.dynamodb.NewImage.version?.N === '3',
        ),
    );
    failNth = 3;
    const failed = await consumeStream(batch, live);
    const again = batch.Records.slice(
      batch.Records.findIndex(
        (record) => record.dynamodb?.SequenceNumber === failed.batchItemFailures[0]?.itemIdentifier,
      ),
    );
    const retried = await consumeStream({ Records: again }, live);
    const whole = await consumeStream(batch, live);

    expect([failed.batchItemFailures.length, retried, whole]).toEqual([
      1,
      { batchItemFailures: [] },
      { batchItemFailures: [] },
    ]);
    expect(messages.get('c-bob')?.[0]).toEqual({
      type: 'subscribed',
      topics: ['list/annotations'],
      refused: [`record/accounts/${account.id}`],
    });
    expect(changes('c-bob')).toEqual([
      ['annotations', note.id, 2],
      ['annotations', note.id, 3],
    ]);
    expect(changes('c-carol')).toEqual([
      ['annotations', note.id, 2],
      ['accounts', account.id, 2],
      ['annotations', note.id, 3],
    ]);
  });

  it('keeps presence until a connection leaves, and forgets a connection whose socket is gone', async () => {
    sentBy = 'live-socket';
    await connect('p-alice', 'alice', ['sales']);
    await connect('p-bob', 'bob', ['sales']);
    await handleSocket(
      socket('$default', 'p-alice', { action: 'subscribe', topics: ['record/orders/o9'] }),
      live,
    );
    await handleSocket(
      socket('$default', 'p-bob', { action: 'presence', resource: 'orders', id: 'o9', state: 'editing' }),
      live,
    );
    await handleSocket(socket('$default', 'p-bob', { action: 'unsubscribe', topics: ['list/orders'] }), live);
    await handleSocket(socket('$default', 'p-bob', { action: 'ping' }), live);
    await handleSocket(socket('$disconnect', 'p-bob'), live);
    await handleSocket(
      socket('$default', 'p-alice', { action: 'presence', resource: 'orders', id: 'o9', state: 'viewing' }),
      live,
    );
    await handleSocket(
      socket('$default', 'p-alice', { action: 'presence', resource: 'orders', id: 'o9', state: 'left' }),
      live,
    );

    sentBy = 'live-stream';
    gone.add('p-alice');
    await live.publish([
      {
        seq: 'x1',
        resource: 'orders',
        id: 'o9',
        version: 2,
        at: '2026-12-06T10:00:00.000Z',
        kind: 'changed',
      },
    ]);

    expect(
      (messages.get('p-alice') ?? []).map((message) =>
        message.type === 'presence'
          ? message.people.map((person) => `${person.sub}:${person.state}`)
          : message.type,
      ),
    ).toEqual(['subscribed', ['bob:editing'], []]);
    expect(messages.get('p-bob')).toEqual([{ type: 'pong' }]);
    expect(await dynamoStore(documents, connectionsTable).connection('p-alice')).toBeUndefined();
  });

  it('sends to the connections table exactly the actions each function is granted', () => {
    const functions = ['live-socket', 'live-stream'];
    expect(
      Object.fromEntries(
        [...sent].filter(([fn]) => functions.includes(fn)).map(([fn, actions]) => [fn, [...actions].sort()]),
      ),
    ).toEqual({
      'live-socket': [...liveTableAccess['live-socket']],
      'live-stream': [...liveTableAccess['live-stream']],
    });
  });
});
