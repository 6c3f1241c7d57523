import { StaleDataError } from '../../errors';
import { type AttemptTag, newAttempt } from './attempts';
import type { ExpressionBuilder } from './expression';
import type { StoredItem } from './items';
import { type Change, changeIsPresent, toPublicRecord, type WriteContext, withChange } from './records';
import { MovedError, type Rule } from './rules';

/**
 * The version rule, in one place: every change to a versioned record bumps `version` by
 * exactly one, in the same write; a change based on a version writes only while that
 * version is stored; `If-Match: *` is "whatever version is there now", pinned to the version
 * read where the answer needs the record; and the version an answer shows is the one the
 * write produced.
 */

/**
 * The version a change is based on: `If-Match: "<version>"` (`header`) or `"version"` in the
 * body (`body`), whose staleness is answered 412 and 409; `any` is `If-Match: *`, an explicit
 * overwrite.
 */
export type Precondition = { kind: 'version'; version: number; source?: 'header' | 'body' } | { kind: 'any' };

/** The SET clause of every change: the version goes up by exactly one. */
export const bumpVersion = (x: ExpressionBuilder): string =>
  `${x.name('version')} = ${x.name('version')} + ${x.value(1)}`;

/** The version a change produces, as an update expression's operand (read before the update). */
export const nextVersion = (x: ExpressionBuilder): string => `${x.name('version')} + ${x.value(1)}`;

/** The version a change makes of `item`. */
export const versionAfter = (item: StoredItem): number => Number(item.version) + 1;

/** The version a versioned change produces; under `If-Match: *` it is not known before the write. */
export const producedVersion = (precondition: Precondition): number | undefined =>
  precondition.kind === 'version' ? precondition.version + 1 : undefined;

/** A new attempt of a single-item change under `precondition`: by the version it produces, or without one. */
export const attemptUnder = (precondition: Precondition): AttemptTag =>
  precondition.kind === 'version'
    ? newAttempt('versioned', precondition.version + 1)
    : newAttempt('unversioned');

/** The precondition a change writes under once it has read `item`: its own version, or `*` pinned to the version read. */
export const pinnedTo = (
  precondition: Precondition,
  item: StoredItem | undefined,
): Extract<Precondition, { kind: 'version' }> =>
  precondition.kind === 'version' ? precondition : { kind: 'version', version: Number(item?.version ?? 0) };

/**
 * The caller's copy is current: nobody changed the record since the version it read. A
 * stale request whose change is stored already, written by someone else, is still stale,
 * marked `changeAlreadyPresent`; 412 for a stale `If-Match`, 409 for a stale body version. A
 * pinned write (`If-Match: *` pinned to what it read) that finds the version moved reads
 * again instead.
 */
export const atVersion = (
  precondition: Extract<Precondition, { kind: 'version' }>,
  options: { change?: Change | undefined; now: Date; pinned?: boolean | undefined },
): Rule => ({
  clause: (x) => `${x.name('version')} = ${x.value(precondition.version)}`,
  broken: (item) => {
    if (!item || Number(item.version) === precondition.version) return undefined;
    if (options.pinned) return new MovedError();
    return new StaleDataError(toPublicRecord(item, options.now), {
      changeAlreadyPresent: isSomeChange(options.change) && changeIsPresent(item, options.change),
      status: precondition.source === 'header' ? 412 : 409,
    });
  },
});

const isSomeChange = (change: Change | undefined): change is Change =>
  change !== undefined && (Object.keys(change.set).length > 0 || change.remove.length > 0);

/**
 * What an answer says of a change recognised as applied after its answer was lost: the
 * record as it is now, and, when others changed it since, the version this change wrote.
 */
export const appliedVersionOf = (
  current: { version: number },
  recognised: { version?: number | undefined } | undefined,
): { appliedVersion?: number } =>
  recognised?.version !== undefined && recognised.version !== current.version
    ? { appliedVersion: recognised.version }
    : {};

/** The item a change makes of `item`: what a transaction, which returns nothing, wrote. */
export const appliedChange = (item: StoredItem, change: Change, context: WriteContext): StoredItem => {
  return {
    ...withChange(item, change),
    version: versionAfter(item),
    updatedAt: context.now.toISOString(),
    updatedBy: context.actor,
  };
};
