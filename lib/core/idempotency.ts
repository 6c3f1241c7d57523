import { createHash } from 'node:crypto';
import type { StoredItem } from './sdk-errors';

/** How long an Idempotency-Key is remembered (API.md §1). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * What a write carries when its request had an Idempotency-Key: the key (hashed, scoped to
 * the caller) and a hash of what the request asked for, to tell a replay from a reuse.
 */
export interface Idempotency {
  keyHash: string;
  requestHash: string;
}

/**
 * The marker a keyed write leaves on the item it writes, in the same request as the change,
 * so a retry whose first response was lost finds its own write instead of a false conflict.
 * A create's marker has its own attribute and is kept for good; a change's goes into one of
 * MARKER_SLOTS attributes, chosen by the version it produced, so a record remembers the keys
 * of its last MARKER_SLOTS keyed versions, holds at most MARKER_SLOTS + 1 markers whoever
 * writes it, and no keyed write erases another's until that many versions later.
 */
export interface IdempotencyMarker {
  /** Hash of the caller's sub and key. */
  k: string;
  /** Hash of the request. */
  h: string;
  /** When it was written, epoch ms. */
  at: number;
}

/** How many changes' markers a record keeps, in a ring (besides its create's). */
export const MARKER_SLOTS = 20;

const MARKER_PREFIX = 'idem@';

/** The attribute holding the create's marker. */
export const CREATE_MARKER = `${MARKER_PREFIX}create`;

/** The ring slot where the change that produced `version` leaves its marker. */
export const markerSlot = (version: number): string => `${MARKER_PREFIX}${version % MARKER_SLOTS}`;

/** Every attribute a marker may be in: the create's and the ring's. */
export const markerAttributes: readonly string[] = [
  CREATE_MARKER,
  ...Array.from({ length: MARKER_SLOTS }, (_, slot) => `${MARKER_PREFIX}${slot}`),
];

export const isMarkerAttribute = (name: string): boolean => name.startsWith(MARKER_PREFIX);

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );

export const idempotencyKeyHash = (sub: string, key: string): string => sha256(`${sub}\n${key}`);

export const requestHashOf = (request: unknown): string => sha256(canonicalJson(request));

/** The per-item identity inside a multi-item request: same request, same item, same hash. */
export const forItem = (idempotency: Idempotency, itemId: string): Idempotency => ({
  keyHash: idempotency.keyHash,
  requestHash: sha256(`${idempotency.requestHash}\n${itemId}`),
});

/** A deterministic record id for a keyed create, so its retry meets its own first write. */
export const idFromKey = (keyHash: string): string => keyHash.slice(0, 22);

export const markerFor = (idempotency: Idempotency, now: Date): IdempotencyMarker => ({
  k: idempotency.keyHash,
  h: idempotency.requestHash,
  at: now.getTime(),
});

/**
 * How a stored item relates to this request's key: `replay` (this very request was applied
 * already), `reused` (the key went with another request), or `none`. Markers older than the
 * window are forgotten, by timestamp, whatever TTL has or has not deleted yet.
 */
export const markerMatch = (
  item: StoredItem,
  idempotency: Idempotency | undefined,
  now: Date,
): 'replay' | 'reused' | 'none' => {
  if (!idempotency) return 'none';
  const windowStart = now.getTime() - IDEMPOTENCY_WINDOW_MS;
  const mine = Object.entries(item)
    .filter(([name]) => isMarkerAttribute(name))
    .map(([, marker]) => marker as IdempotencyMarker)
    .filter((marker) => marker.k === idempotency.keyHash && marker.at >= windowStart);
  if (mine.length === 0) return 'none';
  return mine.some((marker) => marker.h === idempotency.requestHash) ? 'replay' : 'reused';
};
