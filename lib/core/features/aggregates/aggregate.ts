import { now as clockNow } from '../../../clock';
import { tableName } from '../../../db/table-name';
import { NotFoundError, TooManyChangesError, WriteContentionError } from '../../../errors';
import { ExpressionBuilder } from '../../build/expression';
import type { StoredItem } from '../../build/items';
import { keyOf, newId, PK, SK } from '../../build/keys';
import { newRecordItem, type WriteContext } from '../../build/records';
import { changeRequest, createRequest } from '../../build/requests';
import { goneOrNotFound, MovedError } from '../../build/rules';
import { appliedChange, appliedVersionOf, pinnedTo } from '../../build/version';
import { type Committed, commit, itemUpdate, type Plan } from '../../once/commit';
import { retryWithBackoff } from '../../send/backoff';
import { queryAll, readItem } from '../../send/reads';
import { asAction, MAX_TRANSACTION_ITEMS } from '../../send/writes';
import { assertHeaderAllows, childAction, headerRules } from './actions';
import { keptAfter, keptAttributes, readWhole } from './kept';
import type { Aggregate, AggregateSpec, AggregateWrite } from './spec';

/** Queries of one aggregate before a read that keeps seeing a transaction half applied gives up. */
export const WHOLE_READ_ATTEMPTS = 5;

/**
 * Reads the header and every child with one consistent Query (more only past 1 MB), whole: a
 * Query is not isolated from transactions and may see one half applied (DynamoDB's
 * read-committed isolation), which the header's kept child versions tell (kept.ts), and
 * then it reads again, up to WHOLE_READ_ATTEMPTS Queries, else WRITE_CONTENTION.
 */
export const readAggregate = async (
  spec: AggregateSpec,
  id: string,
  now = clockNow(),
): Promise<Aggregate> => {
  const query = async (): Promise<Aggregate> => {
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
    if (!readWhole(spec, header, children)) throw new MovedError();
    return { header, children };
  };
  try {
    return await retryWithBackoff(query, (error) => error instanceof MovedError, {
      attempts: WHOLE_READ_ATTEMPTS,
      baseMs: 5,
      capMs: 50,
    });
  } catch (error) {
    throw error instanceof MovedError ? new WriteContentionError() : error;
  }
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
