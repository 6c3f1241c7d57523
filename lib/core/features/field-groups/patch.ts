import { isDeepStrictEqual } from 'node:util';
import { IdempotencyKeyReusedError, OutcomeUnknownError, PartialConflictError } from '../../../errors';
import { AppError } from '../../../problems';
import { newAttempt } from '../../build/attempts';
import type { StoredItem } from '../../build/items';
import { forPart } from '../../build/key-record';
import { type PublicRecord, toPublicRecord, type WriteContext } from '../../build/records';
import type { AttemptOptions } from '../../build/requests';
import { commit, onceInParts } from '../../once/commit';
import { getRecord } from '../../send/reads';
import { partFailure } from '../../send/translate';
import { asAction } from '../../send/writes';
import {
  type FieldGroupEntity,
  GroupAlreadyNew,
  GroupConflict,
  type GroupOutcome,
  type GroupPatch,
  groupRequest,
  pick,
  present,
  touchedGroups,
} from './groups';

type Written =
  | { applied: StoredItem | undefined }
  | { conflict: StoredItem }
  | { failed: AppError }
  | { unchanged: true };

/**
 * One group's write, made once (commit): without a key one UpdateItem that returns the
 * record as written (an earlier attempt recognised in the window of writes without a
 * version); with one, the group is a part of the request with its own key record, in one
 * transaction with the change, so it is applied once however often the request is repeated
 * and whoever wrote the group in between. A failure of this group alone (throttling,
 * contention, an outcome unknown) is reported for this group alone.
 */
const writeGroup = async (
  entity: FieldGroupEntity,
  id: string,
  group: string,
  base: Record<string, unknown>,
  next: Record<string, unknown>,
  context: WriteContext,
  wrote?: () => void,
): Promise<Written> => {
  const fields = entity.groups[group]?.fields ?? [];
  const request = (options?: AttemptOptions) =>
    groupRequest(entity, id, fields, base, next, context, options);
  const part = context.idempotency ? forPart(context.idempotency, `group:${group}`) : undefined;
  try {
    // Keyed, the part's record keeps `{status: 'applied'}`; keyless, the record as written comes too.
    const { response } = await commit<undefined, { status: 'applied'; item?: StoredItem }>(
      {
        item: () => {
          const tag = newAttempt('unversioned');
          return {
            kind: 'Update',
            tag,
            build: (again) => request({ attempt: { tag, again } }),
            answer: (written) => ({ response: { status: 'applied', item: written.item } }),
          };
        },
        read: async () => undefined,
        plan: () => ({ actions: [asAction('Update', request())], response: { status: 'applied' } }),
      },
      { idempotency: part, now: context.now },
    );
    wrote?.();
    return { applied: response.item };
  } catch (error) {
    if (error instanceof GroupConflict) return { conflict: error.item };
    if (error instanceof GroupAlreadyNew) return { unchanged: true };
    // A group whose outcome is unknown may have been written: its repeat must run again.
    if (AppError.is(error, 'OUTCOME_UNKNOWN')) wrote?.();
    // This group alone failed: the others stand as written. (A key reused with another patch
    // meets this group's own record from the first request.)
    if (
      AppError.is(error, 'THROTTLED', 'WRITE_CONTENTION', 'OUTCOME_UNKNOWN') ||
      error instanceof IdempotencyKeyReusedError ||
      !(error instanceof AppError)
    ) {
      return { failed: partFailure(error) };
    }
    // The record is gone or was never there: every group meets the same.
    throw error;
  }
};

export interface GroupPatchResult {
  record: PublicRecord;
  groups: Record<string, 'applied' | 'unchanged'>;
  replayed: boolean;
}

/**
 * Applies a field-group PATCH: per touched group, `unchanged` (no write) or one conditional
 * write of the whole group; all writes in flight at once, never one transaction, so one
 * group's conflict leaves the others applied. Without a key the record in the answer is the
 * newest state any write returned; with one it is read after the writes, and a fully
 * applied answer is kept under the key for its repeats.
 */
export const patchGroups = async (
  entity: FieldGroupEntity,
  id: string,
  patch: GroupPatch,
  roles: readonly string[],
  context: WriteContext,
): Promise<GroupPatchResult> => {
  const touched = touchedGroups(entity, patch, roles);
  const { idempotency, now } = context;
  const apply = async (wrote?: () => void): Promise<Omit<GroupPatchResult, 'replayed'>> => {
    const outcomes = await Promise.all(
      touched.map(async (name) => {
        const fields = entity.groups[name]?.fields ?? [];
        const base = pick(patch.base, fields);
        const next = { ...base, ...pick({ ...base, ...patch.set }, fields) };
        if (isDeepStrictEqual(next, base)) return { name, unchanged: true as const };
        return { name, ...(await writeGroup(entity, id, name, base, next, context, wrote)) };
      }),
    );
    const groups: Record<string, GroupOutcome> = {};
    let newest: StoredItem | undefined;
    for (const outcome of outcomes) {
      const item =
        'applied' in outcome ? outcome.applied : 'conflict' in outcome ? outcome.conflict : undefined;
      if (item && (!newest || Number(item.version) > Number(newest.version))) newest = item;
      if ('applied' in outcome) groups[outcome.name] = { status: 'applied' };
      else if ('conflict' in outcome) {
        const fields = entity.groups[outcome.name]?.fields ?? [];
        const current = Object.fromEntries(
          fields.filter((f) => present(outcome.conflict[f])).map((f) => [f, outcome.conflict[f]]),
        );
        groups[outcome.name] = { status: 'conflict', current };
      } else if ('failed' in outcome) groups[outcome.name] = { status: 'failed', code: outcome.failed.code };
      else groups[outcome.name] = { status: 'unchanged' };
    }
    const failures = outcomes
      .flatMap((outcome) => ('failed' in outcome ? [outcome.failed] : []))
      // An outcome unknown first: the whole answer must never say that nothing was written.
      .sort((a, b) => Number(b.code === 'OUTCOME_UNKNOWN') - Number(a.code === 'OUTCOME_UNKNOWN'));
    const written = outcomes.some((outcome) => 'applied' in outcome || 'conflict' in outcome);
    // Nothing was written and nothing conflicted: the failure is the whole request's answer.
    if (failures[0] && !written) throw failures[0];
    // Groups are written: a record that cannot be read now is read by the keyed repeat.
    const record =
      newest && !idempotency
        ? toPublicRecord(newest, now)
        : await getRecord(entity, id, now).catch(() => {
            throw new OutcomeUnknownError();
          });
    if (
      Object.values(groups).some((outcome) => outcome.status === 'conflict' || outcome.status === 'failed')
    ) {
      throw new PartialConflictError(groups, record);
    }
    const answer = {
      record,
      groups: Object.fromEntries(
        Object.entries(groups).map(([name, outcome]) => [name, outcome.status]),
      ) as Record<string, 'applied' | 'unchanged'>,
    };
    return answer;
  };
  if (!idempotency) return { ...(await apply()), replayed: false };
  const { response, replayed } = await onceInParts(idempotency, now, async (wrote) => ({
    answer: await apply(wrote),
    keep: true,
  }));
  return { ...response, replayed };
};
