import * as z from 'zod/mini';
import type { Role } from '../domain/roles';
import { mayReadList, mayReadRecords, maySubscribe } from './access';
import {
  type ClientMessage,
  type LiveEvent,
  listTopic,
  type PresenceState,
  type Present,
  parseTopic,
  type Resource,
  recordTopic,
  resources,
  type ServerMessage,
  type Topic,
} from './protocol';

/**
 * The live channel, once for both places it runs: locally over the local server's WebSocket
 * with its state in memory, and in AWS over API Gateway's WebSocket API with its state in the
 * connections table. What differs is where connections, subscriptions and presence are kept
 * (`LiveStore`) and how a message reaches a connection (`Sender`); what a message means, who
 * may hear what, and that each change reaches each subscriber once, are here.
 */

/** A client's connection, and who it is (from the token it connected with). */
export interface Connection {
  connectionId: string;
  sub: string;
  roles: Role[];
  /** When its token expires (ms): it hears nothing after that. */
  expiresAt: number;
}

/** One connection's presence on one record. */
export interface PresenceEntry {
  connectionId: string;
  sub: string;
  state: PresenceState;
  since: string;
  /** When the connection last said it is there (ms). */
  seenAt: number;
}

export interface LiveStore {
  addConnection(connection: Connection): Promise<void>;
  connection(connectionId: string): Promise<Connection | undefined>;
  /** Forgets the connection, its subscriptions and its presence; says which records it was present on. */
  removeConnection(connectionId: string): Promise<{ resource: Resource; id: string }[]>;
  subscribe(connection: Connection, topics: readonly Topic[]): Promise<void>;
  unsubscribe(connectionId: string, topics: readonly Topic[]): Promise<void>;
  subscribers(topic: Topic): Promise<Connection[]>;
  /** Keeps (a state) or drops (undefined) the connection's presence on a record. */
  setPresence(
    connection: Connection,
    resource: Resource,
    id: string,
    state: PresenceState | undefined,
    now: Date,
  ): Promise<void>;
  /** Presence on one record, or on every record of the resource. */
  presence(resource: Resource, id?: string): Promise<(PresenceEntry & { id: string })[]>;
  /** Whether the event of this stream record was delivered already (a batch redelivered). */
  delivered(seq: string): Promise<boolean>;
  markDelivered(seq: string, now: Date): Promise<void>;
}

export interface Sender {
  /** False when the connection is gone. */
  send(connectionId: string, message: ServerMessage): Promise<boolean>;
  close(connectionId: string, reason: string): Promise<void>;
}

/** Presence not said again for this long is stale (a client says it every minute; a lost $disconnect). */
export const PRESENCE_STALE_MS = 150_000;
/** How often a client says again that it is there. */
export const PRESENCE_HEARTBEAT_MS = 60_000;
/** Topics one subscribe may name. */
export const MAX_TOPICS = 50;

const clientMessage = z.union([
  z.strictObject({
    action: z.enum(['subscribe', 'unsubscribe']),
    topics: z.array(z.string().check(z.maxLength(300))).check(z.maxLength(MAX_TOPICS)),
  }),
  z.strictObject({
    action: z.literal('presence'),
    resource: z.enum(resources),
    id: z.string().check(z.minLength(1), z.maxLength(256)),
    state: z.enum(['viewing', 'editing', 'left']),
  }),
  z.strictObject({ action: z.literal('ping') }),
]);

/** A client's message, or undefined for anything else (not JSON, not one of the messages). */
export const parseClientMessage = (text: string): ClientMessage | undefined => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = clientMessage.safeParse(json);
  return parsed.success ? (parsed.data as ClientMessage) : undefined;
};

/** The people on a record as one connection is told: itself left out, each person once. */
export const peopleFor = (
  entries: readonly PresenceEntry[],
  connectionId: string,
  now: number,
): Present[] => {
  const bySub = new Map<string, Present>();
  for (const entry of entries) {
    if (entry.connectionId === connectionId || entry.seenAt < now - PRESENCE_STALE_MS) continue;
    const known = bySub.get(entry.sub);
    bySub.set(entry.sub, {
      sub: entry.sub,
      state: known?.state === 'editing' || entry.state === 'editing' ? 'editing' : 'viewing',
      since: known && known.since < entry.since ? known.since : entry.since,
    });
  }
  return [...bySub.values()].sort((a, b) => a.since.localeCompare(b.since) || a.sub.localeCompare(b.sub));
};

export const createChannel = (store: LiveStore, sender: Sender, clock: () => Date = () => new Date()) => {
  const live = (connection: Connection) => connection.expiresAt > clock().getTime();

  /** Everyone subscribed to a record or its list, once each, who may still read it. */
  const audience = async (resource: Resource, id: string): Promise<Connection[]> => {
    const [onRecord, onList] = await Promise.all([
      store.subscribers(recordTopic(resource, id)),
      store.subscribers(listTopic(resource)),
    ]);
    const byId = new Map<string, Connection>();
    for (const connection of onRecord)
      if (mayReadRecords(resource, connection.roles)) byId.set(connection.connectionId, connection);
    for (const connection of onList)
      if (mayReadList(resource, connection.roles)) byId.set(connection.connectionId, connection);
    return [...byId.values()].filter(live);
  };

  const disconnect = async (connectionId: string): Promise<void> => {
    const left = await store.removeConnection(connectionId);
    for (const { resource, id } of left) await announcePresence(resource, id);
  };

  /** Sends, and forgets a connection that is gone. */
  const deliver = async (connection: Connection, message: ServerMessage): Promise<void> => {
    if (!(await sender.send(connection.connectionId, message))) await disconnect(connection.connectionId);
  };

  const presenceMessage = (
    resource: Resource,
    id: string,
    entries: readonly PresenceEntry[],
    connectionId: string,
  ): ServerMessage => ({
    type: 'presence',
    resource,
    id,
    people: peopleFor(entries, connectionId, clock().getTime()),
  });

  /** Who is on the record now, to everyone who hears of it (but `from`, whose own news it is). */
  const announcePresence = async (resource: Resource, id: string, from?: string): Promise<void> => {
    const [entries, recipients] = await Promise.all([store.presence(resource, id), audience(resource, id)]);
    for (const recipient of recipients)
      if (recipient.connectionId !== from)
        await deliver(recipient, presenceMessage(resource, id, entries, recipient.connectionId));
  };

  /** What a new subscriber of a topic is told at once: who has its record (or each of its list's) open. */
  const presenceSnapshot = async (connection: Connection, topic: Topic): Promise<void> => {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    const entries = await store.presence(parsed.resource, parsed.kind === 'record' ? parsed.id : undefined);
    const ids = [...new Set(entries.map((entry) => entry.id))].sort();
    for (const id of ids) {
      const message = presenceMessage(
        parsed.resource,
        id,
        entries.filter((entry) => entry.id === id),
        connection.connectionId,
      );
      if (message.type === 'presence' && message.people.length > 0) await deliver(connection, message);
    }
  };

  return {
    connect: (connection: Connection) => store.addConnection(connection),
    disconnect,

    /** One message from a client; anything that is not one of the messages is ignored. */
    receive: async (connectionId: string, text: string): Promise<void> => {
      const connection = await store.connection(connectionId);
      if (!connection) return;
      if (!live(connection)) {
        await sender.close(connectionId, 'The token has expired: connect again with a fresh one.');
        return disconnect(connectionId);
      }
      const message = parseClientMessage(text);
      if (!message) return;
      switch (message.action) {
        case 'subscribe': {
          const topics = [...new Set(message.topics)];
          const allowed = topics.filter((topic): topic is Topic => maySubscribe(topic, connection.roles));
          await store.subscribe(connection, allowed);
          await deliver(connection, {
            type: 'subscribed',
            topics: allowed,
            refused: topics.filter((topic) => !maySubscribe(topic, connection.roles)),
          });
          for (const topic of allowed) await presenceSnapshot(connection, topic);
          return;
        }
        case 'unsubscribe':
          return store.unsubscribe(
            connectionId,
            message.topics.filter((topic): topic is Topic => parseTopic(topic) !== undefined),
          );
        case 'presence': {
          if (!mayReadRecords(message.resource, connection.roles)) return;
          const state = message.state === 'left' ? undefined : message.state;
          await store.setPresence(connection, message.resource, message.id, state, clock());
          return announcePresence(message.resource, message.id, connectionId);
        }
        case 'ping':
          return deliver(connection, { type: 'pong' });
      }
    },

    /**
     * The events of a batch, in order: each to every subscriber of its record or its list who
     * may read it, once. An event delivered before (its stream record redelivered with its
     * batch) is not sent again; one that fails part-way is sent again in full, and the client,
     * which keeps the sequence numbers it has seen, takes it once.
     */
    publish: async (events: readonly LiveEvent[]): Promise<void> => {
      for (const event of events) {
        if (await store.delivered(event.seq)) continue;
        for (const recipient of await audience(event.resource, event.id))
          await deliver(recipient, { type: 'change', event });
        await store.markDelivered(event.seq, clock());
      }
    },
  };
};

export type Channel = ReturnType<typeof createChannel>;
