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
 * Each marker is its own attribute, named after the version the write produced
 * (`idem@<version>`), so a record remembers the keys of its last MARKER_VERSIONS changes
 * (and of its create, for good) and no keyed write overwrites another's marker.
 */
export interface IdempotencyMarker {
  /** Hash of the caller's sub and key. */
  k: string;
  /** Hash of the request. */
  h: string;
  /** When it was written, epoch ms. */
  at: number;
}

/** How many of a record's latest versions keep their marker (besides version 1, the create's). */
export const MARKER_VERSIONS = 20;

const MARKER_PREFIX = 'idem@';

/** The attribute holding the marker of the write that produced `version`. */
export const markerAttribute = (version: number): string => `${MARKER_PREFIX}${version}`;

export const isMarkerAttribute = (name: string): boolean => name.startsWith(MARKER_PREFIX);

/**
 * The versions whose markers an item at `version` may hold: its create's and those of its
 * latest MARKER_VERSIONS versions.
 */
export const markerVersionsAt = (version: number): number[] => {
  const versions = [1];
  for (let kept = Math.max(2, version - MARKER_VERSIONS + 1); kept <= version; kept += 1) versions.push(kept);
  return versions;
};

/** The marker a write producing `version` drops, so an item keeps a bounded number. */
export const droppedMarkerVersion = (version: number): number | undefined =>
  version - MARKER_VERSIONS > 1 ? version - MARKER_VERSIONS : undefined;

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
