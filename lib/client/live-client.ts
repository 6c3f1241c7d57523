import type {
  ClientMessage,
  LiveEvent,
  PresenceState,
  Present,
  Resource,
  ServerMessage,
  Topic,
} from '../live/protocol';

/**
 * A typed client for the live channel (lib/live/protocol.ts), for the web app, the smoke test,
 * the bench and the tests: one WebSocket, however many topics are watched; subscriptions and
 * this client's presence are sent again after every reconnect, and each watcher is then told
 * to read afresh (`resync`), which catches up on whatever it missed while the socket was down.
 * A change is handed on once, however often it arrives (by its stream sequence number).
 * Reconnects back off exponentially with jitter, and at once when asked (`reconnectNow`).
 */

export type LiveStatus = 'connecting' | 'live' | 'down';

/** What a watcher of a topic hears. */
export type LiveNotice =
  | { type: 'change'; event: LiveEvent }
  | { type: 'presence'; resource: Resource; id: string; people: Present[] }
  /** Subscribed (again): read what is watched afresh, whatever was missed meanwhile. */
  | { type: 'resync' }
  /** The server refused the topic (no such topic, or not this user's to read). */
  | { type: 'refused' };

/** What the client needs of a WebSocket: the platform's, in a browser and in Node 22. */
type WebSocketLike = Pick<
  WebSocket,
  'readyState' | 'onopen' | 'onmessage' | 'onclose' | 'onerror' | 'send' | 'close'
>;

export interface LiveClientOptions {
  /** The channel's address: `ws://localhost:3000/live`, or the stack's `LiveUrl`. */
  url: string;
  /** The token to connect with, asked at every (re)connect: the freshest the caller has. */
  token: () => string | undefined;
  /** The WebSocket to connect with (the platform's by default). */
  WebSocket?: new (
    url: string,
  ) => WebSocketLike;
  /** First reconnect delay and the most it grows to (ms); default 500 and 8000. */
  backoff?: { initialMs: number; maxMs: number };
  /** How often this client's presence is said again (ms); default 60 s. */
  heartbeatMs?: number;
}

const OPEN = 1;
/** How many sequence numbers are remembered to take each change once. */
const SEEN_KEPT = 2000;

const topicOfEvent = (event: LiveEvent) => [`record/${event.resource}/${event.id}`, `list/${event.resource}`];

export const createLiveClient = (options: LiveClientOptions) => {
  const Socket =
    options.WebSocket ??
    (globalThis as unknown as { WebSocket: new (url: string) => WebSocketLike }).WebSocket;
  const { initialMs, maxMs } = options.backoff ?? { initialMs: 500, maxMs: 8000 };
  const watchers = new Map<string, Set<(notice: LiveNotice) => void>>();
  const presence = new Map<string, { resource: Resource; id: string; state: PresenceState }>();
  /** Which call of `present` last set each record's presence: only its `leave` ends it. */
  const presenceCalls = new Map<string, number>();
  let calls = 0;
  const statusListeners = new Set<(status: LiveStatus) => void>();
  const seen = new Set<string>();
  let socket: WebSocketLike | undefined;
  let status: LiveStatus = 'connecting';
  let attempt = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const setStatus = (next: LiveStatus) => {
    if (next === status) return;
    status = next;
    for (const listener of statusListeners) listener(next);
  };
  const sendNow = (message: ClientMessage) => {
    if (socket?.readyState === OPEN) socket.send(JSON.stringify(message));
  };
  const tell = (topic: string, notice: LiveNotice) => {
    for (const listener of watchers.get(topic) ?? []) listener(notice);
  };

  const receive = (message: ServerMessage) => {
    switch (message.type) {
      case 'subscribed':
        for (const topic of message.refused) tell(topic, { type: 'refused' });
        for (const topic of message.topics) tell(topic, { type: 'resync' });
        return;
      case 'change': {
        if (seen.has(message.event.seq)) return;
        seen.add(message.event.seq);
        if (seen.size > SEEN_KEPT) seen.delete(seen.values().next().value as string);
        // Watched as a record and as its list, a change is handed to each watcher once.
        const told = new Set<(notice: LiveNotice) => void>();
        for (const topic of topicOfEvent(message.event))
          for (const listener of watchers.get(topic) ?? [])
            if (!told.has(listener)) {
              told.add(listener);
              listener({ type: 'change', event: message.event });
            }
        return;
      }
      case 'presence': {
        const notice: LiveNotice = message;
        const told = new Set<(notice: LiveNotice) => void>();
        for (const topic of [`record/${message.resource}/${message.id}`, `list/${message.resource}`])
          for (const listener of watchers.get(topic) ?? [])
            if (!told.has(listener)) {
              told.add(listener);
              listener(notice);
            }
        return;
      }
      default:
        return;
    }
  };

  const schedule = () => {
    if (closed) return;
    setStatus('down');
    const delay = Math.min(maxMs, initialMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    clearTimeout(retry);
    retry = setTimeout(connect, delay);
  };

  function connect(): void {
    clearTimeout(retry);
    if (closed) return;
    const token = options.token();
    if (!token) {
      schedule();
      return;
    }
    setStatus('connecting');
    let opened: WebSocketLike;
    try {
      opened = new Socket(`${options.url}?token=${encodeURIComponent(token)}`);
    } catch {
      schedule();
      return;
    }
    socket = opened;
    opened.onopen = () => {
      if (socket !== opened) return;
      attempt = 0;
      setStatus('live');
      if (watchers.size > 0) sendNow({ action: 'subscribe', topics: [...watchers.keys()] });
      for (const mine of presence.values()) sendNow({ action: 'presence', ...mine });
    };
    opened.onmessage = (event) => {
      if (socket !== opened) return;
      try {
        receive(JSON.parse(String(event.data)) as ServerMessage);
      } catch {
        // Not a message of the protocol: nothing to do with it.
      }
    };
    // A refused handshake fires `error` (and, in browsers, `close` after it; Node's WebSocket
    // fires no `close` then): whichever comes first schedules the next attempt.
    const lost = () => {
      if (socket !== opened) return;
      socket = undefined;
      schedule();
    };
    opened.onclose = lost;
    opened.onerror = lost;
  }

  heartbeat = setInterval(() => {
    for (const mine of presence.values()) sendNow({ action: 'presence', ...mine });
    if (presence.size === 0) sendNow({ action: 'ping' });
  }, options.heartbeatMs ?? 60_000);
  (heartbeat as { unref?: () => void }).unref?.();
  connect();

  return {
    status: (): LiveStatus => status,
    /** Hears every status change: `live` while the socket is open, `down` while it waits to reconnect. */
    onStatus: (listener: (status: LiveStatus) => void) => {
      statusListeners.add(listener);
      return () => {
        statusListeners.delete(listener);
      };
    },
    /** Watches a topic until the returned function is called. */
    watch: (topic: Topic, listener: (notice: LiveNotice) => void) => {
      const listeners = watchers.get(topic) ?? new Set();
      const first = listeners.size === 0;
      listeners.add(listener);
      watchers.set(topic, listeners);
      if (first) sendNow({ action: 'subscribe', topics: [topic] });
      return () => {
        listeners.delete(listener);
        if (listeners.size > 0) return;
        watchers.delete(topic);
        sendNow({ action: 'unsubscribe', topics: [topic] });
      };
    },
    /**
     * Says this client has the record open (`viewing`, `editing`); the returned function says
     * it left, unless a later call for the record has said something since.
     */
    present: (resource: Resource, id: string, state: PresenceState) => {
      const key = `${resource}/${id}`;
      const before = presence.get(key);
      const call = ++calls;
      presence.set(key, { resource, id, state });
      presenceCalls.set(key, call);
      if (before?.state !== state) sendNow({ action: 'presence', resource, id, state });
      return () => {
        if (presenceCalls.get(key) !== call) return;
        presence.delete(key);
        presenceCalls.delete(key);
        sendNow({ action: 'presence', resource, id, state: 'left' });
      };
    },
    /** Connects at once if down (the window got the focus back, the network came back). */
    reconnectNow: () => {
      if (status === 'down') {
        attempt = 0;
        connect();
      }
    },
    /** Closes the socket, as if the network dropped: it reconnects as usual (tests). */
    drop: () => socket?.close(),
    close: () => {
      closed = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      socket?.close(1000, 'closed');
      socket = undefined;
      setStatus('down');
    },
  };
};

export type LiveClient = ReturnType<typeof createLiveClient>;
