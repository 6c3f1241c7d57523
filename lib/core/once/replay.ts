import { tableName } from '../../db/table-name';
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from '../../errors';
import { ExpressionBuilder } from '../build/expression';
import type { StoredItem } from '../build/items';
import {
  decodeAnswer,
  type Idempotency,
  isStaleClaim,
  isWithinWindow,
  keyUnusedClause,
  partPrefix,
} from '../build/key-record';
import { PK, SK } from '../build/keys';
import type { Rule } from '../build/rules';
import { queryAll } from '../send/reads';

/**
 * What an Idempotency-Key's stored record means for a request (pure), and its replay: the
 * first answer, read from the record or its parts. The record itself (its states and
 * builders) is build/key-record.ts; the flows that write it are claims.ts and keyed-commit.ts.
 */

/**
 * This request's key was found applied already: the kept record, whose first answer is
 * given again, exactly. Never leaves the core.
 */
export class Replay extends Error {
  constructor(readonly kept: StoredItem) {
    super('This request was applied already under its Idempotency-Key.');
    this.name = 'Replay';
  }

  /** The first answer: kept in the record, or in parts beside it. */
  async answer(): Promise<unknown> {
    const parts = this.kept.parts as { owner: string; count: number } | undefined;
    if (!parts) return decodeAnswer(this.kept.response);
    const x = new ExpressionBuilder();
    const items = await queryAll({
      TableName: tableName(),
      KeyConditionExpression: `${x.name(PK)} = ${x.value(this.kept[PK])} AND begins_with(${x.name(SK)}, ${x.value(partPrefix(parts.owner))})`,
      ConsistentRead: true,
      ...x.attributes(),
    });
    if (items.length !== parts.count) throw new Error('A kept answer is missing some of its parts.');
    return decodeAnswer(Buffer.concat(items.map((item) => item.part as Uint8Array)));
  }
}

/**
 * A claim of this very request whose claimant's time is up: it stopped, committed or not.
 * Never leaves the core.
 */
export class StaleClaim extends Error {
  constructor(readonly record: StoredItem) {
    super('A claim of this request was left by a request that stopped.');
    this.name = 'StaleClaim';
  }
}

/**
 * What a key's stored record means for this request (pure): its replay, a reuse (422), this
 * very request still running under its claim (409), a claim left by it that stopped, or
 * nothing (unknown, past its window, or left open for this request to run again).
 */
export const readKeyRecordItem = (
  item: StoredItem | undefined,
  idempotency: Idempotency,
  now: Date,
): Replay | StaleClaim | IdempotencyKeyReusedError | IdempotencyInProgressError | undefined => {
  if (!isWithinWindow(item, now)) return undefined;
  if (item.h !== idempotency.requestHash) return new IdempotencyKeyReusedError();
  if (item.claim !== undefined) {
    return isStaleClaim(item, now) ? new StaleClaim(item) : new IdempotencyInProgressError();
  }
  if (item.open) return undefined;
  return new Replay(item);
};

/** The key was not used within its window; broken, it is this request's replay or a reuse. */
export const keyUnused = (idempotency: Idempotency, now: Date): Rule => ({
  clause: (x) => keyUnusedClause(x, now),
  broken: (item) => readKeyRecordItem(item, idempotency, now),
});
