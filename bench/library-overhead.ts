/**
 * `npm run bench`: what the concurrency core costs over the same raw SDK call.
 * Runs N versioned updates through `changeRecord` and N hand-written conditional
 * UpdateItems with the same condition, against DynamoDB Local, and prints the ratio.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoLocal } from '../lib/local/dynamodb-local';
import { ensureTable } from '../lib/local/tables';

const N = Number(process.env.BENCH_N ?? 400);

const main = async (): Promise<void> => {
  const dynamo = await startDynamoLocal();
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TABLE_NAME = `bench-${randomUUID()}`;
  const admin = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(admin, process.env.TABLE_NAME);
  // Loaded once the environment is set: the config is read when its module loads.
  const { changeRecord, createRecord } = await import('../lib/core/record-store');
  const { db } = await import('../lib/db/client');
  const entity = { type: 'BENCH', fields: ['name'] };
  const context = () => ({ actor: 'bench', now: new Date() });

  const viaLibrary = (await createRecord(entity, { name: 'x' }, context())).record.id;
  const viaSdk = (await createRecord(entity, { name: 'x' }, context())).record.id;

  const library = (i: number) =>
    changeRecord(
      entity,
      viaLibrary,
      { kind: 'version', version: i + 1 },
      { set: { name: `n${i}` }, remove: [] },
      context(),
    );
  const raw = (i: number) =>
    db().send(
      new UpdateCommand({
        TableName: process.env.TABLE_NAME,
        Key: { pk: `BENCH#${viaSdk}`, sk: 'RECORD' },
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
          ':name': `n${i}`,
          ':one': 1,
          ':at': new Date().toISOString(),
          ':by': 'bench',
          ':v': i + 1,
          ':now': Date.now(),
        },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );

  // Warm-up, then alternate rounds of each, so load from elsewhere on the machine falls on
  // both sides alike instead of on whichever happened to run second.
  const ROUND = 25;
  let next = 0;
  for (; next < 50; next++) {
    await library(next);
    await raw(next);
  }
  const elapsed = { library: 0, raw: 0 };
  for (const end = next + N; next < end; next += ROUND) {
    for (const [side, fn] of [
      ['library', library],
      ['raw', raw],
    ] as const) {
      const start = process.hrtime.bigint();
      for (let i = next; i < next + ROUND; i++) await fn(i);
      elapsed[side] += Number(process.hrtime.bigint() - start) / 1e6;
    }
  }
  const { library: libraryMs, raw: rawMs } = elapsed;
  console.log(`versioned update, ${N} sequential calls against DynamoDB Local`);
  console.log(`  library (changeRecord): ${libraryMs.toFixed(0)} ms`);
  console.log(`  raw SDK UpdateCommand:  ${rawMs.toFixed(0)} ms`);
  console.log(`  ratio library/raw:      ${(libraryMs / rawMs).toFixed(3)} (target ≤ 1.10)`);
  admin.destroy();
  await dynamo.stop();
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
