import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Role } from '../domain/roles';
import type { Connection, LiveStore, PresenceEntry } from './channel';
import { PRESENCE_STALE_MS } from './channel';
import { connectionsTableSpec } from './connections-spec';
import type { PresenceState, Resource, Topic } from './protocol';

/**
 * The live channel's state in AWS, in the connections table (connections-spec.ts), where
 * every Lambda invocation finds it:
 *
 * | item | pk | sk |
 * | --- | --- | --- |
 * | a connection: who, roles, until; its topics and the records it is present on | `CONN#<connection>` | `CONN` |
 * | a subscription, with who and roles (a topic's subscribers are one Query) | `TOPIC#<topic>` | `<connection>` |
 * | presence on a record (a resource's are one Query, a record's the same with a prefix) | `PRESENCE#<resource>` | `<id>\|<connection>` |
 * | a stream record whose event was delivered | `SEEN#<sequence number>` | `SEEN` |
 *
 * Each expires by TTL (a connection when its token does, presence a while after it was last
 * said, a delivery after the stream's 24 hours), and is also judged by its own times, since
 * TTL deletes late.
 */
const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = connectionsTableSpec;
/** How long a delivered sequence number is kept: longer than the stream keeps a record (24 h). */
const SEEN_KEPT_S = 25 * 3600;

const seconds = (ms: number) => Math.ceil(ms / 1000);
const connectionKey = (connectionId: string) => ({ [PK]: `CONN#${connectionId}`, [SK]: 'CONN' });
const topicKey = (topic: string, connectionId: string) => ({ [PK]: `TOPIC#${topic}`, [SK]: connectionId });
const presenceKey = (resource: string, id: string, connectionId: string) => ({
  [PK]: `PRESENCE#${resource}`,
  [SK]: `${id}|${connectionId}`,
});

export const dynamoStore = (client: DynamoDBDocumentClient, tableName: string): LiveStore => {
  const get = async (key: Record<string, string>) =>
    (await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
  const put = (item: Record<string, unknown>) =>
    client.send(new PutCommand({ TableName: tableName, Item: item }));
  const remove = (key: Record<string, string>) =>
    client.send(new DeleteCommand({ TableName: tableName, Key: key }));
  const query = async (pk: string, skPrefix?: string) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: skPrefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PK, ...(skPrefix ? { '#sk': SK } : {}) },
          ExpressionAttributeValues: { ':pk': pk, ...(skPrefix ? { ':prefix': skPrefix } : {}) },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };
  /**
   * Adds to (or takes from) one of a connection's sets: its topics, the records it is present
   * on. A connection gone meanwhile ($disconnect came first) keeps nothing.
   */
  const updateSet = async (
    connectionId: string,
    set: 'topics' | 'present',
    verb: 'ADD' | 'DELETE',
    values: string[],
  ): Promise<void> => {
    if (values.length === 0) return;
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: connectionKey(connectionId),
          UpdateExpression: `${verb} #set :values`,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#set': set, '#pk': PK },
          ExpressionAttributeValues: { ':values': new Set(values) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };
  const asConnection = (item: Record<string, unknown>): Connection => ({
    connectionId: String(item.connectionId),
    sub: String(item.sub),
    roles: (item.roles as Role[] | undefined) ?? [],
    expiresAt: Number(item.until),
  });

  return {
    addConnection: async (connection) => {
      await put({
        ...connectionKey(connection.connectionId),
        connectionId: connection.connectionId,
        sub: connection.sub,
        roles: connection.roles,
        until: connection.expiresAt,
        [TTL]: seconds(connection.expiresAt),
      });
    },
    connection: async (connectionId) => {
      const item = await get(connectionKey(connectionId));
      return item ? asConnection(item) : undefined;
    },
    removeConnection: async (connectionId) => {
      const item = await get(connectionKey(connectionId));
      if (!item) return [];
      const topics = [...((item.topics as Set<string> | undefined) ?? [])];
      const present = [...((item.present as Set<string> | undefined) ?? [])].map((record) => {
        const [resource = '', ...id] = record.split('/');
        return { resource: resource as Resource, id: id.join('/') };
      });
      await Promise.all([
        ...topics.map((topic) => remove(topicKey(topic, connectionId))),
        ...present.map(({ resource, id }) => remove(presenceKey(resource, id, connectionId))),
      ]);
      await remove(connectionKey(connectionId));
      return present;
    },
    subscribe: async (connection, topics) => {
      await Promise.all(
        topics.map((topic) =>
          put({
            ...topicKey(topic, connection.connectionId),
            connectionId: connection.connectionId,
            sub: connection.sub,
            roles: connection.roles,
            until: connection.expiresAt,
            [TTL]: seconds(connection.expiresAt),
          }),
        ),
      );
      await updateSet(connection.connectionId, 'topics', 'ADD', [...topics]);
    },
    unsubscribe: async (connectionId, topics) => {
      await Promise.all(topics.map((topic) => remove(topicKey(topic, connectionId))));
      await updateSet(connectionId, 'topics', 'DELETE', [...topics]);
    },
    subscribers: async (topic: Topic) => (await query(`TOPIC#${topic}`)).map(asConnection),
    setPresence: async (connection, resource, id, state: PresenceState | undefined, now) => {
      const key = presenceKey(resource, id, connection.connectionId);
      if (state === undefined) {
        await remove(key);
        await updateSet(connection.connectionId, 'present', 'DELETE', [`${resource}/${id}`]);
        return;
      }
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression:
            'SET #id = :id, connectionId = :connection, #sub = :sub, #state = :state, seenAt = :now, #since = if_not_exists(#since, :iso), #ttl = :ttl',
          ExpressionAttributeNames: {
            '#id': 'id',
            '#sub': 'sub',
            '#state': 'state',
            '#since': 'since',
            '#ttl': TTL,
          },
          ExpressionAttributeValues: {
            ':id': id,
            ':connection': connection.connectionId,
            ':sub': connection.sub,
            ':state': state,
            ':now': now.getTime(),
            ':iso': now.toISOString(),
            ':ttl': seconds(now.getTime() + 2 * PRESENCE_STALE_MS),
          },
        }),
      );
      await updateSet(connection.connectionId, 'present', 'ADD', [`${resource}/${id}`]);
    },
    presence: async (resource, id) =>
      (await query(`PRESENCE#${resource}`, id === undefined ? undefined : `${id}|`)).map(
        (item): PresenceEntry & { id: string } => ({
          id: String(item.id),
          connectionId: String(item.connectionId),
          sub: String(item.sub),
          state: item.state as PresenceState,
          since: String(item.since),
          seenAt: Number(item.seenAt),
        }),
      ),
    delivered: async (seq) => (await get({ [PK]: `SEEN#${seq}`, [SK]: 'SEEN' })) !== undefined,
    markDelivered: async (seq, now) => {
      await put({ [PK]: `SEEN#${seq}`, [SK]: 'SEEN', [TTL]: seconds(now.getTime()) + SEEN_KEPT_S });
    },
  };
};
