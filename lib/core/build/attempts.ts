import { randomBytes } from 'node:crypto';
import { now as clockNow } from '../../clock';
import { ATTEMPT_TIMEOUT_MS } from '../../db/request-stats';
import type { ExpressionBuilder } from './expression';
import type { StoredItem } from './items';
import { LOCK_SKEW_MARGIN_MS } from './locks';

/**
 * How a keyless single-item write recognises its own earlier attempt, by identity: every
 * write carries a random attempt id and leaves it on the item in the same write. When an
 * attempt's answer is lost, the write is sent again and, if the condition fails, the item it
 * returns says whether this very attempt is on it; values are never compared. Every window
 * that keeps attempts is bounded, and knows when it has been exceeded: it then says it
 * cannot tell (OUTCOME_UNKNOWN), never "not applied". (Transactions need none of this:
 * DynamoDB recognises a transaction sent again under its ClientRequestToken.)
 *
 * - A create keeps its attempt for good (`@c`): exact, however the record changed since.
 * - A versioned change knows the version it produces, and keeps its attempt in the ring slot
 *   of that version (`@v<version mod N>` = `<version>|<id>`), one SET. Its version clause
 *   keeps it from applying twice; the slot says whether the version is its own, and when a
 *   later version has taken the slot, that it can no longer tell.
 * - A change without a version (`If-Match: *`, a field group) shifts its attempt into a
 *   register of the last N such writes (`@w0` newest, `<stamp>|<id>`, with `@wv` the version
 *   it produced), and its condition requires the id to be absent. Others' writes push it out:
 *   an attempt sent again therefore also requires that the register still holds every write
 *   that can have landed since its first attempt was sent (its oldest entry is older than
 *   that, less how long an attempt may be on its way and clock skew twice); a register that
 *   has turned over since says "cannot tell".
 * - Lock operations have a register of their own (`@l`, with the fence `@lf` and the
 *   acquisition time `@la` their answer needs), so lock traffic never pushes out the attempts
 *   of data writes.
 */
export const ATTEMPT_SLOTS = 8;

/**
 * How much older than an attempt's first send the oldest entry of a register must be for the
 * register to still hold every write that can have landed after that attempt: a write landed
 * at most ATTEMPT_TIMEOUT_MS after its own entry's stamp, and two writers' clocks may differ
 * by LOCK_SKEW_MARGIN_MS.
 */
export const REGISTER_COVER_MS = ATTEMPT_TIMEOUT_MS + 2 * LOCK_SKEW_MARGIN_MS;

export type AttemptTag =
  /** A create: kept for good on the item it makes. */
  | { kind: 'create'; id: string }
  /** A change that produces `produces`. */
  | { kind: 'versioned'; id: string; produces: number }
  /** A change without a version; `since` is when its first attempt was sent (ms, the clock's). */
  | { kind: 'unversioned'; id: string; since: number }
  /** A lock operation: acquisition, renewal or release. */
  | { kind: 'lock'; id: string; since: number };

/** What a recognised attempt left on the item: the version it produced; for a lock operation the lease it made. */
export interface Recognised {
  version?: number;
  fence?: number;
  acquiredAt?: string;
}

/** What the item says of an attempt: applied, not applied, or past what the item can tell. */
export type Recognition = { applied: Recognised } | 'absent' | 'unknowable';

export const newAttemptId = (): string => randomBytes(12).toString('base64url');

/** A new attempt's tag: `since` is now, by the clock every writer stamps with. */
export const newAttempt = <K extends AttemptTag['kind']>(
  kind: K,
  produces?: number,
): Extract<AttemptTag, { kind: K }> => {
  const id = newAttemptId();
  if (kind === 'versioned') return { kind, id, produces } as Extract<AttemptTag, { kind: K }>;
  if (kind === 'create') return { kind, id } as Extract<AttemptTag, { kind: K }>;
  return { kind, id, since: clockNow().getTime() } as Extract<AttemptTag, { kind: K }>;
};

const CREATE = '@c';
const ring = (version: number) => `@v${version % ATTEMPT_SLOTS}`;
const registers = {
  unversioned: { entry: '@w', extras: ['@wv'] },
  lock: { entry: '@l', extras: ['@lf', '@la'] },
} as const;
const slots = Array.from({ length: ATTEMPT_SLOTS }, (_, index) => index);

/** Stamps sort as text: fixed width. */
const stamp = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(15, '0');
/** A register entry: when its attempt was sent, then its id. */
const entryOf = (id: string, since: number): string => `${stamp(since)}|${id}`;

/** Attributes that are attempt bookkeeping (this release's and earlier ones'), never part of a record. */
export const isAttemptAttribute = (name: string): boolean =>
  name.startsWith('@') || name.startsWith('ov@') || name.startsWith('op@');

/** The attributes a create leaves on its new item. */
export const createdBy = (tag: Extract<AttemptTag, { kind: 'create' }>): StoredItem => ({ [CREATE]: tag.id });

/**
 * The register's extra values of a write: the version an unversioned change produces; for a
 * lock operation the fence and acquisition time of the lease its answer gives.
 */
export type RegisterValues = (x: ExpressionBuilder) => string[];

/**
 * The SET clauses that leave this attempt on the item: in the ring slot of the version it
 * produces, or shifted into its register with `values` beside it (one expression per extra
 * attribute of the register, evaluated on the item as it was).
 */
export const recordAttempt = (x: ExpressionBuilder, tag: AttemptTag, values?: RegisterValues): string[] => {
  if (tag.kind === 'create') return [];
  if (tag.kind === 'versioned')
    return [`${x.name(ring(tag.produces))} = ${x.value(`${tag.produces}|${tag.id}`)}`];
  const { entry, extras } = registers[tag.kind];
  const names = [entry, ...extras];
  const none = x.value('');
  const shifts = slots
    .slice(1)
    .reverse()
    .flatMap((index) =>
      names.map(
        (name) => `${x.name(`${name}${index}`)} = if_not_exists(${x.name(`${name}${index - 1}`)}, ${none})`,
      ),
    );
  const newest = values?.(x) ?? extras.map(() => none);
  return [
    ...shifts,
    `${x.name(`${entry}0`)} = ${x.value(entryOf(tag.id, tag.since))}`,
    ...extras.map((name, index) => `${x.name(`${name}0`)} = ${newest[index] ?? none}`),
  ];
};

/**
 * The condition clauses of this attempt. A change without a version (or a lock operation)
 * is not in its register yet, so it never applies twice; sent again after an attempt that
 * may have landed (`again`), the register must also still hold every write since that
 * attempt, or the retry could not tell its own attempt from its absence.
 */
export const attemptClauses = (x: ExpressionBuilder, tag: AttemptTag, again: boolean): string[] => {
  if (tag.kind === 'create' || tag.kind === 'versioned') return [];
  const { entry } = registers[tag.kind];
  const id = x.value(tag.id);
  const absent = `NOT (${slots.map((index) => `contains(${x.name(`${entry}${index}`)}, ${id})`).join(' OR ')})`;
  if (!again) return [absent];
  const oldest = x.name(`${entry}${ATTEMPT_SLOTS - 1}`);
  return [
    absent,
    `attribute_not_exists(${oldest}) OR ${oldest} < ${x.value(stamp(tag.since - REGISTER_COVER_MS))}`,
  ];
};

/** What `item` says of the attempt `tag` (see attemptClauses and recordAttempt). */
export const recognise = (item: StoredItem | undefined, tag: AttemptTag): Recognition => {
  if (!item) return 'absent';
  if (tag.kind === 'create') return item[CREATE] === tag.id ? { applied: { version: 1 } } : 'absent';
  if (tag.kind === 'versioned') {
    const slot = String(item[ring(tag.produces)] ?? '');
    if (slot === `${tag.produces}|${tag.id}`) return { applied: { version: tag.produces } };
    // A later version took the slot: whether it held this attempt before cannot be told.
    const held = Number(slot.split('|')[0]);
    const overwritten =
      Number.isInteger(held) && slot.includes('|')
        ? held > tag.produces
        : Number(item.version) >= tag.produces + ATTEMPT_SLOTS;
    return overwritten ? 'unknowable' : 'absent';
  }
  const { entry, extras } = registers[tag.kind];
  const index = slots.find((slot) => String(item[`${entry}${slot}`] ?? '').endsWith(`|${tag.id}`));
  if (index !== undefined) {
    const [first, second] = extras.map((name) => item[`${name}${index}`]);
    return {
      applied:
        tag.kind === 'unversioned'
          ? { version: Number(first) }
          : { fence: Number(first), acquiredAt: String(second ?? '') },
    };
  }
  const oldest = item[`${entry}${ATTEMPT_SLOTS - 1}`];
  return typeof oldest === 'string' && oldest >= stamp(tag.since - REGISTER_COVER_MS)
    ? 'unknowable'
    : 'absent';
};
