/**
 * The live channel's words, shared by the server (locally and in AWS), the typed live client
 * and the web app: the events a change to the table becomes, the topics a client subscribes
 * to, and the messages on the socket. Pure: no imports that need Node, so the web app
 * bundles it as it is.
 */

/** The resources whose records people open, by the path segment the API names them with. */
export const resources = ['annotations', 'orders', 'debtors', 'articles', 'accounts'] as const;
export type Resource = (typeof resources)[number];

/** The record type of each resource as its items' keys carry it (`ORDER#<id>`). */
export const recordTypes: Readonly<Record<Resource, string>> = {
  annotations: 'ANNOTATION',
  orders: 'ORDER',
  debtors: 'DEBTOR',
  articles: 'ARTICLE',
  accounts: 'ACCOUNT',
};

/** What happened to an order's line in the change an event is about. */
export interface LineChange {
  lineId: string;
  change: 'added' | 'changed' | 'removed';
  /** For a changed line: the fields whose values changed. */
  fields?: string[];
}

/**
 * One change to one record, as every subscriber who may read the record learns of it: what
 * kind of change, by whom, when, and the version it left, never a value beyond the lock's
 * holder and a counter's new value (both shown to every reader of the record), and never a
 * lock's token.
 *
 * - `created`, `deleted`: the record was made, or deleted (a tombstone; `by` absent when it
 *   was removed outside the API).
 * - `changed`: `fields` whose values changed (names only; the client reads the record for
 *   the values); `groups`, the parts they belong to (a debtor's or an article's field
 *   groups, an order's `header` and `lines`); `lines`, an order's line changes, where the
 *   stream delivered them with the header (see docs/live.md).
 * - `movement`: a counter moved (an account's or a debtor's `balance`, an article's `inStock`).
 * - `lock`: the lock was taken, renewed or released; the version does not change. A release
 *   does not say by whom: the item does not record who removed a lock (its holder, or a
 *   supervisor breaking it).
 */
export interface LiveEvent {
  /** The stream record's sequence number: a change redelivered has the same one. */
  seq: string;
  resource: Resource;
  id: string;
  /** The record's version after the change. */
  version: number;
  at: string;
  /** Who made the change; absent where the item does not say. */
  by?: string;
  kind: 'created' | 'changed' | 'deleted' | 'movement' | 'lock';
  fields?: string[];
  groups?: string[];
  lines?: LineChange[];
  movement?: { field: string; delta: number; value: number };
  lock?: {
    action: 'taken' | 'renewed' | 'released';
    /** Who holds it (taken, renewed) or held it (released). */
    owner: string;
    expiresAt?: string;
    /** A lock taken over after the previous holder's expired: whose it was. */
    previousOwner?: string;
  };
}

/**
 * A topic: one record (`record/orders/<id>`) or one resource's list (`list/orders`). A
 * subscriber of a record hears its changes and who has it open; of a list, every record's.
 */
export type Topic = `record/${Resource}/${string}` | `list/${Resource}`;

export const recordTopic = (resource: Resource, id: string): Topic => `record/${resource}/${id}`;
export const listTopic = (resource: Resource): Topic => `list/${resource}`;

const isResource = (text: string): text is Resource => (resources as readonly string[]).includes(text);

/** A topic's parts, or undefined for text that is no topic (an unknown resource, an empty id). */
export const parseTopic = (
  text: string,
): { kind: 'record'; resource: Resource; id: string } | { kind: 'list'; resource: Resource } | undefined => {
  const [kind, resource = '', ...rest] = text.split('/');
  if (!isResource(resource)) return undefined;
  if (kind === 'list' && rest.length === 0) return { kind, resource };
  const id = rest.join('/');
  if (kind === 'record' && id.length > 0 && id.length <= 256) return { kind, resource, id };
  return undefined;
};

/** Who has a record open: `editing` while they have unsaved changes in it. */
export type PresenceState = 'viewing' | 'editing';

export interface Present {
  sub: string;
  state: PresenceState;
  /** Since when they have had it open. */
  since: string;
}

/** What a client sends. */
export type ClientMessage =
  | { action: 'subscribe'; topics: string[] }
  | { action: 'unsubscribe'; topics: string[] }
  /** This connection has the record open (`viewing`, `editing`) or no longer (`left`). */
  | { action: 'presence'; resource: Resource; id: string; state: PresenceState | 'left' }
  | { action: 'ping' };

/** What the server sends. */
export type ServerMessage =
  /** The answer to a subscribe: the topics now subscribed, and those refused (no such topic, or not the caller's to read). */
  | { type: 'subscribed'; topics: string[]; refused: string[] }
  | { type: 'change'; event: LiveEvent }
  /** Everyone who has the record open now, but for the receiving connection itself. */
  | { type: 'presence'; resource: Resource; id: string; people: Present[] }
  | { type: 'pong' }
  /** Said before the server closes the connection: why. */
  | { type: 'closing'; reason: string };

/** Close codes the server uses: the token expired (sign in or renew, then connect again). */
export const CLOSE_TOKEN_EXPIRED = 4401;
