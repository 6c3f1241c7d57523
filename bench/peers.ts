/**
 * The same versioned update written four ways over the one DocumentClient (`db()`), so every
 * contender shares its connection pool and middleware stack: by hand with lib-dynamodb, with
 * the project's core, with ElectroDB and with dynamodb-toolbox v2. Each carries the same
 * condition as the core's: the record exists, is not deleted, is at the expected version and
 * holds no unexpired lock; each sets the field, bumps the version and writes the audit fields.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  $add,
  Entity,
  GetItemCommand,
  item,
  map,
  number,
  PutItemCommand,
  string,
  Table,
  UpdateItemCommand,
} from 'dynamodb-toolbox';
import { Entity as ElectroEntity } from 'electrodb';
import type { StoredItem } from '../lib/core/build/items';
import { listingIndex, newId } from '../lib/core/build/keys';
import { changeRecord, createRecord } from '../lib/core/features/records/store';
import { db } from '../lib/db/client';
import { tableName } from '../lib/db/table-name';
import { StaleDataError } from '../lib/errors';

export const benchEntity = { type: 'BENCH', fields: ['name'] };
const ACTOR = 'bench';

/** One way of making the versioned update, and of answering a stale one with the current item. */
export interface Peer {
  name: string;
  /** Creates a record at version 1; answers its id. */
  create(): Promise<string>;
  /** The versioned update from `version`; answers the version written. */
  update(id: string, version: number, name: string): Promise<number>;
  /** The key of the record's item, to read it as stored. */
  key(id: string): Record<string, string>;
}

/** How a peer answers a stale update: with the current item, however many requests that takes. */
export interface ConflictAnswer {
  name: string;
  /** Whose records it works on. */
  peer: Peer;
  /** Sends `version` (stale) and answers the version of the current item it got back. */
  stale(id: string, version: number): Promise<number>;
}

const isConditionFailure = (error: unknown): error is Error & { Item?: Record<string, never> } =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

// ---- by hand, lib-dynamodb -------------------------------------------------------------

const rawKey = (id: string) => ({ pk: `BENCHRAW#${id}`, sk: 'RECORD' });

const rawUpdate = (id: string, version: number, name: string, extra: object = {}) =>
  db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: rawKey(id),
      UpdateExpression: 'SET #name = :name, #version = #version + :one, #updatedAt = :at, #updatedBy = :by',
      ConditionExpression:
        'attribute_exists(pk) AND attribute_not_exists(deletedAt) AND #version = :v AND (attribute_not_exists(#lock) OR #lock.#until <= :now)',
      ExpressionAttributeNames: {
        '#name': 'name',
        '#version': 'version',
        '#updatedAt': 'updatedAt',
        '#updatedBy': 'updatedBy',
        '#lock': 'lock',
        '#until': 'until',
      },
      ExpressionAttributeValues: {
        ':name': name,
        ':one': 1,
        ':at': new Date().toISOString(),
        ':by': ACTOR,
        ':v': version,
        ':now': Date.now(),
      },
      ReturnValues: 'ALL_NEW',
      ...extra,
    }),
  );

/**
 * Puts a peer's record into the listing index, as the core's records are: every update of an
 * indexed item writes the index too, so without this the peers' writes would do less work
 * in the database than the core's, not less work in the library.
 */
const listed = async (key: Record<string, string>, id: string): Promise<string> => {
  const now = new Date().toISOString();
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: key,
      UpdateExpression: 'SET #lpk = :type, #lsk = :sort, #createdAt = :now, #createdBy = :by',
      ExpressionAttributeNames: {
        '#lpk': listingIndex.partitionKey,
        '#lsk': listingIndex.sortKey,
        '#createdAt': 'createdAt',
        '#createdBy': 'createdBy',
      },
      ExpressionAttributeValues: { ':type': 'BENCHPEER', ':sort': `${now}#${id}`, ':now': now, ':by': ACTOR },
    }),
  );
  return id;
};

export const raw: Peer = {
  name: 'raw lib-dynamodb `UpdateCommand`',
  key: rawKey,
  create: async () => {
    const id = newId();
    const at = new Date().toISOString();
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...rawKey(id), id, name: 'x', version: 1, updatedAt: at, updatedBy: ACTOR },
      }),
    );
    return listed(rawKey(id), id);
  },
  update: async (id, version, name) => Number((await rawUpdate(id, version, name)).Attributes?.version),
};

// ---- the project's core ----------------------------------------------------------------

export const core: Peer = {
  name: 'this project (`changeRecord`)',
  key: (id) => ({ pk: `${benchEntity.type}#${id}`, sk: 'RECORD' }),
  create: async () =>
    (await createRecord(benchEntity, { name: 'x' }, { actor: ACTOR, now: new Date() })).record.id,
  update: async (id, version, name) =>
    (
      await changeRecord(
        benchEntity,
        id,
        { kind: 'version', version },
        { set: { name }, remove: [] },
        { actor: ACTOR, now: new Date() },
      )
    ).record.version,
};

// ---- ElectroDB -------------------------------------------------------------------------

const electroEntity = () =>
  new ElectroEntity(
    {
      model: { entity: 'benchelectro', version: '1', service: 'bench' },
      attributes: {
        id: { type: 'string', required: true },
        name: { type: 'string' },
        version: { type: 'number' },
        updatedAt: { type: 'string' },
        updatedBy: { type: 'string' },
        deletedAt: { type: 'string' },
        lock: { type: 'map', properties: { owner: { type: 'string' }, until: { type: 'number' } } },
      },
      indexes: {
        record: { pk: { field: 'pk', composite: ['id'] }, sk: { field: 'sk', composite: [] } },
      },
    },
    { client: db(), table: tableName() },
  );
let electroMade: ReturnType<typeof electroEntity> | undefined;
const electro = () => {
  electroMade ??= electroEntity();
  return electroMade;
};

const electroUpdate = (id: string, version: number, name: string) =>
  electro()
    .update({ id })
    .set({ name, updatedAt: new Date().toISOString(), updatedBy: ACTOR })
    .add({ version: 1 })
    .where(
      (attr, op) =>
        `${op.exists(attr.id)} AND ${op.notExists(attr.deletedAt)} AND ${op.eq(attr.version, version)} AND (${op.notExists(attr.lock)} OR ${op.lte(attr.lock.until, Date.now())})`,
    );

export const electrodb: Peer = {
  name: 'ElectroDB `update().set().add().where()`',
  key: (id) => electro().get({ id }).params<{ Key: Record<string, string> }>().Key,
  create: async () => {
    const id = newId();
    await electro()
      .create({ id, name: 'x', version: 1, updatedAt: new Date().toISOString(), updatedBy: ACTOR })
      .go();
    return listed(electrodb.key(id), id);
  },
  update: async (id, version, name) =>
    Number((await electroUpdate(id, version, name).go({ response: 'all_new' })).data.version),
};

// ---- dynamodb-toolbox v2 ---------------------------------------------------------------

const toolboxEntity = () =>
  new Entity({
    name: 'BenchToolbox',
    table: new Table({
      name: tableName(),
      partitionKey: { name: 'pk', type: 'string' },
      sortKey: { name: 'sk', type: 'string' },
      documentClient: db(),
    }),
    schema: item({
      id: string().key(),
      name: string(),
      version: number(),
      updatedAt: string(),
      updatedBy: string(),
      deletedAt: string().optional(),
      lock: map({ owner: string(), until: number() }).optional(),
    }),
    computeKey: ({ id }: { id: string }) => ({ pk: `BENCHTB#${id}`, sk: 'RECORD' }),
    entityAttribute: false,
    timestamps: false,
  });
let toolboxMade: ReturnType<typeof toolboxEntity> | undefined;
const toolbox = () => {
  toolboxMade ??= toolboxEntity();
  return toolboxMade;
};

const toolboxUpdate = (
  id: string,
  version: number,
  name: string,
  extra: { returnValuesOnConditionFalse?: 'ALL_OLD' } = {},
) =>
  toolbox()
    .build(UpdateItemCommand)
    .item({ id, name, version: $add(1), updatedAt: new Date().toISOString(), updatedBy: ACTOR })
    .options({
      condition: {
        and: [
          { attr: 'id', exists: true },
          { attr: 'deletedAt', exists: false },
          { attr: 'version', eq: version },
          {
            or: [
              { attr: 'lock', exists: false },
              { attr: 'lock.until', lte: Date.now() },
            ],
          },
        ],
      },
      returnValues: 'ALL_NEW',
      ...extra,
    });

export const dynamodbToolbox: Peer = {
  name: 'dynamodb-toolbox v2 `UpdateItemCommand`',
  key: (id) => ({ pk: `BENCHTB#${id}`, sk: 'RECORD' }),
  create: async () => {
    const id = newId();
    await toolbox()
      .build(PutItemCommand)
      .item({ id, name: 'x', version: 1, updatedAt: new Date().toISOString(), updatedBy: ACTOR })
      .send();
    return listed(dynamodbToolbox.key(id), id);
  },
  update: async (id, version, name) =>
    Number((await toolboxUpdate(id, version, name).send()).Attributes?.version),
};

export const peers: readonly Peer[] = [raw, core, electrodb, dynamodbToolbox];

/** The item as stored (strongly consistent), to answer a stubbed request with. */
export const storedItem = async (peer: Peer, id: string): Promise<StoredItem> => {
  const { Item } = await db().send(
    new GetCommand({ TableName: tableName(), Key: peer.key(id), ConsistentRead: true }),
  );
  if (!Item) throw new Error(`${peer.name}: no item for ${id}`);
  return Item;
};

// ---- the conflict path -----------------------------------------------------------------

const versionOf = (item: StoredItem | null | undefined): number => {
  if (!item) throw new Error('A stale update was answered without the current item.');
  return Number(item.version);
};

const expectRefused = async (
  write: () => Promise<unknown>,
): Promise<Error & { Item?: Record<string, never> }> => {
  try {
    await write();
  } catch (error) {
    if (isConditionFailure(error)) return error;
    const cause = (error as { cause?: unknown }).cause;
    if (isConditionFailure(cause)) return cause;
    throw error;
  }
  throw new Error('A stale update was applied.');
};

export const conflictAnswers: readonly ConflictAnswer[] = [
  {
    name: 'raw `UpdateCommand` fails, then `GetCommand`',
    peer: raw,
    stale: async (id, version) => {
      await expectRefused(() => rawUpdate(id, version, 'stale'));
      return versionOf((await storedItem(raw, id)) as StoredItem);
    },
  },
  {
    name: 'this project (`changeRecord`: `STALE_DATA` with `current`)',
    peer: core,
    stale: async (id, version) => {
      try {
        await core.update(id, version, 'stale');
      } catch (error) {
        if (error instanceof StaleDataError) return versionOf(error.current);
        throw error;
      }
      throw new Error('A stale update was applied.');
    },
  },
  {
    name: 'raw `UpdateCommand` with `ReturnValuesOnConditionCheckFailure`',
    peer: raw,
    stale: async (id, version) => {
      const refused = await expectRefused(() =>
        rawUpdate(id, version, 'stale', { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      );
      return versionOf(refused.Item && unmarshall(refused.Item));
    },
  },
  {
    name: 'ElectroDB fails, then `get().go({ consistent: true })`',
    peer: electrodb,
    stale: async (id, version) => {
      await expectRefused(() => electroUpdate(id, version, 'stale').go({ response: 'all_new' }));
      return versionOf((await electro().get({ id }).go({ consistent: true })).data);
    },
  },
  {
    name: "ElectroDB `returnOnConditionCheckFailure: 'all_old'`",
    peer: electrodb,
    stale: async (id, version) => {
      const answer = (await electroUpdate(id, version, 'stale').go({
        response: 'all_new',
        returnOnConditionCheckFailure: 'all_old',
      })) as { rejected?: boolean; data?: StoredItem | null };
      if (!answer.rejected) throw new Error('A stale update was applied.');
      return versionOf(answer.data);
    },
  },
  {
    name: 'dynamodb-toolbox fails, then `GetItemCommand`',
    peer: dynamodbToolbox,
    stale: async (id, version) => {
      await expectRefused(() => toolboxUpdate(id, version, 'stale').send());
      return versionOf(
        (await toolbox().build(GetItemCommand).key({ id }).options({ consistent: true }).send()).Item,
      );
    },
  },
  {
    name: "dynamodb-toolbox `returnValuesOnConditionFalse: 'ALL_OLD'`",
    peer: dynamodbToolbox,
    stale: async (id, version) => {
      const refused = await expectRefused(() =>
        toolboxUpdate(id, version, 'stale', { returnValuesOnConditionFalse: 'ALL_OLD' }).send(),
      );
      return versionOf(refused.Item && unmarshall(refused.Item));
    },
  },
];
