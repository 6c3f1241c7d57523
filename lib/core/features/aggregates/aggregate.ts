import { isDeepStrictEqual } from 'node:util';
import { now as clockNow } from '../../../clock';
import { tableName } from '../../../db/table-name';
import { NotFoundError, TooManyChangesError, WriteContentionError } from '../../../errors';
import { ExpressionBuilder } from '../../build/expression';
import type { StoredItem } from '../../build/items';
import { keyOf, newId, PK, SK } from '../../build/keys';
import { newRecordItem, type WriteContext } from '../../build/records';
import { changeRequest, createRequest } from '../../build/requests';
import { goneOrNotFound } from '../../build/rules';
import { appliedChange, appliedVersionOf, pinnedTo } from '../../build/version';
import { type Committed, commit, itemUpdate, type Plan } from '../../once/commit';
import { fullJitterDelay, wait } from '../../send/backoff';
import { queryAll, readItem, readTogether } from '../../send/reads';
import { asAction, MAX_TRANSACTION_ITEMS } from '../../send/writes';
import { assertHeaderAllows, childAction, childKey, headerRules } from './actions';
import { disagreeing, keptAfter, keptAttributes } from './kept';
import type { Aggregate, AggregateSpec, AggregateWrite } from './spec';

/** Reads of one aggregate before one that keeps seeing a transaction half applied gives up. */
const WHOLE_READ_ATTEMPTS = 5;

const wholeReadBackoff = { attempts: WHOLE_READ_ATTEMPTS, baseMs: 5, capMs: 50 };

/** The header and every child, with one consistent Query (more only past 1 MB). */
const queryAggregate = async (spec: AggregateSpec, id: string, now: Date): Promise<Aggregate> => {
  const x = new ExpressionBuilder();
  const items = await queryAll({
    TableName: tableName(),
    KeyConditionExpression: `${x.name(PK)} = ${x.value(keyOf(spec, id)[PK])}`,
    ConsistentRead: true,
    ...x.attributes(),
  });
  const header = items.find((item) => item[SK] === keyOf(spec, id)[SK]);
  if (!header) throw new NotFoundError();
  if (header.deletedAt !== undefined) throw goneOrNotFound(header, now);
  const children = items.filter((item) => String(item[SK]).startsWith(spec.childPrefix));
  return { header, children };
};

/**
 * Whether a read of one moment (TransactGetItems, which no transaction is seen half way
 * through) finds the header at the version read and the children the two disagree about as
 * read: then what the header keeps is wrong, not the read.
 */
const keptIsWrong = async (spec: AggregateSpec, id: string, read: Aggregate, off: readonly string[]) => {
  if (off.includes('')) return false;
  const asRead = new Map(read.children.map((child) => [String(child[spec.childIdField]), child]));
  for (let start = 0; start < off.length; start += MAX_TRANSACTION_ITEMS - 1) {
    const chunk = off.slice(start, start + MAX_TRANSACTION_ITEMS - 1);
    let items: (StoredItem | undefined)[];
    try {
      items = await readTogether([keyOf(spec, id), ...chunk.map((childId) => childKey(spec, id, childId))]);
    } catch {
      return false;
    }
    const [header, ...children] = items;
    if (header?.version !== read.header.version) return false;
    if (!chunk.every((childId, index) => isDeepStrictEqual(children[index], asRead.get(childId))))
      return false;
  }
  return true;
};

/** Says in the log that a header keeps its children wrong, written past the API. */
const warnKeptIsWrong = (spec: AggregateSpec, id: string, header: StoredItem, disagreeing: number) =>
  console.warn(
    JSON.stringify({
      level: 'WARN',
      message: `The ${spec.type.toLowerCase()}'s header keeps its ${spec.childName}s other than they are stored; the next write that reads it puts it right`,
      id,
      version: header.version,
      disagreeing,
      count: header[spec.countField],
    }),
  );

/**
 * Reads the header and every child, whole. A Query is not isolated from transactions and may
 * see one half applied (DynamoDB's read-committed isolation), which the versions the header
 * keeps of its children tell (kept.ts): it reads again, up to WHOLE_READ_ATTEMPTS reads, else
 * WRITE_CONTENTION. The same disagreement twice in a row is asked of a read of one moment: if
 * that finds it too, children were written past the API (a console, a script), and the
 * children as stored are the aggregate; the next write puts the header right.
 */
export const readAggregate = async (
  spec: AggregateSpec,
  id: string,
  now = clockNow(),
): Promise<Aggregate> => {
  let before: string | undefined;
  for (let attempt = 0; attempt < WHOLE_READ_ATTEMPTS; attempt += 1) {
    if (attempt > 0) await wait(fullJitterDelay(attempt - 1, wholeReadBackoff));
    const read = await queryAggregate(spec, id, now);
    const off = disagreeing(spec, read.header, read.children);
    if (off.length === 0) {
      // The header's count and its maps are one item, written together: a count that differs
      // from the children it keeps was written past the API, and the next write puts it right.
      if (Number(read.header[spec.countField] ?? read.children.length) === read.children.length) return read;
      warnKeptIsWrong(spec, id, read.header, 0);
      return { ...read, keptIsWrong: true };
    }
    const seen = JSON.stringify(
      [
        read.header.version,
        off,
        read.children.filter((child) => off.includes(String(child[spec.childIdField]))),
      ],
      // A number past 2^53, written past the API, comes back a bigint, which JSON would refuse.
      (_key, value) => (typeof value === 'bigint' ? `${value}n` : value),
    );
    if (seen === before && (await keptIsWrong(spec, id, read, off))) {
      warnKeptIsWrong(spec, id, read.header, off.length);
      return { ...read, keptIsWrong: true };
    }
    before = seen;
  }
  throw new WriteContentionError();
};

/** Reads the header alone, consistently, as stored. */
export const readHeader = (spec: AggregateSpec, id: string): Promise<StoredItem | undefined> =>
  readItem(keyOf(spec, id));

/**
 * Creates the header and its first children in one transaction. With a key, the key's
 * record goes in the same transaction and keeps `response(header)`, the first answer.
 */
export const createAggregate = async <R>(
  spec: AggregateSpec,
  fields: Record<string, unknown>,
  children: readonly { childId: string; fields: Record<string, unknown> }[],
  context: WriteContext,
  response: (header: StoredItem) => R,
): Promise<Committed<R>> => {
  const items = children.length + 1;
  if (items > MAX_TRANSACTION_ITEMS) throw new TooManyChangesError(items, MAX_TRANSACTION_ITEMS);
  const adds = children.map((child) => ({ kind: 'add' as const, ...child }));
  const kept = keptAttributes(keptAfter(spec, [], adds, 1));
  const header = newRecordItem(
    spec,
    newId(),
    { ...fields, [spec.countField]: children.length, ...kept },
    context,
  );
  const id = String(header.id);
  const actions = [
    asAction('Put', createRequest(header, context)),
    ...adds.map((child) => childAction(spec, id, child, 1)),
  ];
  return commit(
    { read: async () => undefined, plan: () => ({ actions, response: response(header) }) },
    context,
  );
};

/**
 * Changes only the header (no children), conditioned like every aggregate write. Without a
 * key: one UpdateItem that returns the header as written (an earlier attempt of it
 * recognised by its attempt). With a key: a read, then the change and the key's record in
 * one transaction.
 */
export const writeHeader = async <R>(
  spec: AggregateSpec,
  id: string,
  write: Pick<AggregateWrite, 'precondition' | 'header' | 'allowedStatuses'>,
  context: WriteContext,
  response: (header: StoredItem) => R,
): Promise<Committed<R>> => {
  const options = { rules: headerRules(spec, write) };
  return commit(
    {
      item: itemUpdate(
        write.precondition,
        (attempt) =>
          changeRequest(spec, id, write.precondition, write.header, context, { ...options, attempt }),
        (written) => ({
          response: response(written.item),
          ...appliedVersionOf({ version: Number(written.item.version) }, written.recognised),
        }),
      ),
      read: () => readHeader(spec, id),
      plan: (item): Plan<R> => {
        const actions = [
          asAction(
            'Update',
            changeRequest(spec, id, pinnedTo(write.precondition, item), write.header, context, {
              ...options,
              pinned: write.precondition.kind === 'any',
            }),
          ),
        ];
        assertHeaderAllows(actions, item);
        return { actions, response: response(appliedChange(item as StoredItem, write.header, context)) };
      },
    },
    context,
  );
};
