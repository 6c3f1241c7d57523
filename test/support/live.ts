import type { ClientMessage, LiveEvent, ServerMessage } from '../../lib/live/protocol';

/**
 * A raw subscriber of the live channel: one WebSocket (Node's own), every message the server
 * sends kept in order, exactly as sent (no deduplication: a test counts what the server sent).
 */
export interface Subscriber {
  messages: ServerMessage[];
  /** The `change` events received, in order. */
  events(): LiveEvent[];
  send(message: ClientMessage): void;
  /** Resolves once the messages so far satisfy `holds` (checked at every message). */
  until(holds: (messages: ServerMessage[]) => boolean): Promise<void>;
  /** Resolves once the server has closed the socket, with its close code. */
  closed: Promise<number>;
  close(): void;
}

/** Opens a socket as the token's user and subscribes to `topics`; resolves once subscribed. */
export const subscribe = async (liveUrl: string, token: string, topics: string[]): Promise<Subscriber> => {
  const socket = new WebSocket(`${liveUrl}?token=${encodeURIComponent(token)}`);
  const messages: ServerMessage[] = [];
  const waiting = new Set<() => void>();
  const closed = new Promise<number>((done) => socket.addEventListener('close', (event) => done(event.code)));
  socket.addEventListener('message', (event) => {
    messages.push(JSON.parse(String(event.data)) as ServerMessage);
    for (const check of [...waiting]) check();
  });
  await new Promise<void>((open, fail) => {
    socket.addEventListener('open', () => open());
    socket.addEventListener('error', () => fail(new Error(`Could not connect to ${liveUrl}`)));
  });
  const subscriber: Subscriber = {
    messages,
    events: () => messages.flatMap((message) => (message.type === 'change' ? [message.event] : [])),
    send: (message) => socket.send(JSON.stringify(message)),
    until: (holds) =>
      new Promise<void>((done) => {
        const check = () => {
          if (!holds(messages)) return;
          waiting.delete(check);
          done();
        };
        waiting.add(check);
        check();
      }),
    closed,
    close: () => socket.close(),
  };
  if (topics.length > 0) {
    const before = messages.length;
    subscriber.send({ action: 'subscribe', topics });
    await subscriber.until((all) => all.slice(before).some((message) => message.type === 'subscribed'));
  }
  return subscriber;
};

/** Until a change of this record at this version (or later) has come. */
export const changeOf =
  (id: string, version: number) =>
  (messages: ServerMessage[]): boolean =>
    messages.some(
      (message) => message.type === 'change' && message.event.id === id && message.event.version >= version,
    );

/**
 * Every event the local server publishes from now on, to wait until a change has gone
 * through the stream before a test subscribes (else a subscriber may still hear it).
 */
export const watchPublished = (live: {
  onPublished(listener: (events: readonly LiveEvent[]) => void): () => void;
}) => {
  const events: LiveEvent[] = [];
  const waiting = new Set<() => void>();
  live.onPublished((batch) => {
    events.push(...batch);
    for (const check of [...waiting]) check();
  });
  return {
    events,
    /** Resolves once the record's change to `version` (or later) has been published. */
    reached: (id: string, version: number) =>
      new Promise<void>((done) => {
        const check = () => {
          if (!events.some((event) => event.id === id && event.version >= version)) return;
          waiting.delete(check);
          done();
        };
        waiting.add(check);
        check();
      }),
  };
};
