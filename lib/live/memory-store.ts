import type { Connection, LiveStore, PresenceEntry } from './channel';
import type { Resource, Topic } from './protocol';

/** How many delivered sequence numbers are remembered: far more than a redelivered batch holds. */
const DELIVERED_KEPT = 10_000;

/**
 * The live channel's state in the local server's memory: connections, subscriptions and
 * presence last as long as their sockets (the server forgets a connection when its socket
 * closes), so nothing is written anywhere, least of all to a record.
 */
export const memoryStore = (): LiveStore => {
  const connections = new Map<string, Connection>();
  const topics = new Map<Topic, Set<string>>();
  const subscribed = new Map<string, Set<Topic>>();
  /** `<resource>/<id>` → connection id → presence. */
  const present = new Map<string, Map<string, PresenceEntry>>();
  const delivered = new Set<string>();
  const recordKey = (resource: Resource, id: string) => `${resource}/${id}`;

  return {
    addConnection: async (connection) => {
      connections.set(connection.connectionId, connection);
    },
    connection: async (connectionId) => connections.get(connectionId),
    removeConnection: async (connectionId) => {
      connections.delete(connectionId);
      for (const topic of subscribed.get(connectionId) ?? []) topics.get(topic)?.delete(connectionId);
      subscribed.delete(connectionId);
      const left: { resource: Resource; id: string }[] = [];
      for (const [key, entries] of present) {
        if (!entries.delete(connectionId)) continue;
        const [resource, ...id] = key.split('/');
        left.push({ resource: resource as Resource, id: id.join('/') });
        if (entries.size === 0) present.delete(key);
      }
      return left;
    },
    subscribe: async (connection, added) => {
      const mine = subscribed.get(connection.connectionId) ?? new Set<Topic>();
      for (const topic of added) {
        mine.add(topic);
        topics.set(topic, (topics.get(topic) ?? new Set()).add(connection.connectionId));
      }
      subscribed.set(connection.connectionId, mine);
    },
    unsubscribe: async (connectionId, removed) => {
      for (const topic of removed) {
        topics.get(topic)?.delete(connectionId);
        subscribed.get(connectionId)?.delete(topic);
      }
    },
    subscribers: async (topic) =>
      [...(topics.get(topic) ?? [])].flatMap((connectionId) => {
        const connection = connections.get(connectionId);
        return connection ? [connection] : [];
      }),
    setPresence: async (connection, resource, id, state, now) => {
      const key = recordKey(resource, id);
      const entries = present.get(key) ?? new Map<string, PresenceEntry>();
      if (state === undefined) entries.delete(connection.connectionId);
      else {
        const since = entries.get(connection.connectionId)?.since ?? now.toISOString();
        entries.set(connection.connectionId, {
          connectionId: connection.connectionId,
          sub: connection.sub,
          state,
          since,
          seenAt: now.getTime(),
        });
      }
      if (entries.size > 0) present.set(key, entries);
      else present.delete(key);
    },
    presence: async (resource, id) =>
      [...present].flatMap(([key, entries]) => {
        const [of, ...rest] = key.split('/');
        const recordId = rest.join('/');
        if (of !== resource || (id !== undefined && recordId !== id)) return [];
        return [...entries.values()].map((entry) => ({ ...entry, id: recordId }));
      }),
    delivered: async (seq) => delivered.has(seq),
    markDelivered: async (seq) => {
      delivered.add(seq);
      if (delivered.size > DELIVERED_KEPT) {
        const oldest = delivered.values().next().value;
        if (oldest !== undefined) delivered.delete(oldest);
      }
    },
  };
};
