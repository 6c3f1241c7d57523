/**
 * `npm run bench`: starts its own DynamoDB Local and table, then prints one markdown table per
 * question (docs/performance.md). `BENCH_QUICK=1` runs the same with small N.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoLocal } from '../lib/local/dynamodb-local';
import { ensureTable } from '../lib/local/tables';

const main = async (): Promise<void> => {
  const quick = process.env.BENCH_QUICK === '1';
  const dynamo = await startDynamoLocal();
  try {
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.AWS_REGION = 'us-east-1';
    process.env.TABLE_NAME = `bench-${randomUUID()}`;
    // Each request's log line would drown the tables (as in the tests); a 5xx's still shows.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
    const admin = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    // Without its stream until the last table turns it on (BenchServer.startLive).
    await ensureTable(admin, process.env.TABLE_NAME, { stream: false });
    admin.destroy();
    // Loaded once the environment is set: the config is read when its module loads.
    const { machine, markdown, runBench } = await import('./run');
    const { db } = await import('../lib/db/client');
    const { isTransient } = await import('../lib/db/sdk-errors');
    // The bench measures the success path: a request whose connection failed on its way (a
    // machine under load) is sent again, for every way alike, rather than ending the run.
    db().middlewareStack.add(
      (next) => async (args) => {
        for (let attempt = 1; ; attempt += 1) {
          try {
            return await next(args);
          } catch (error) {
            if (attempt >= 3 || !isTransient(error)) throw error;
          }
        }
      },
      { step: 'finalizeRequest', priority: 'high', name: 'benchSendAgain' },
    );
    const { fullSize, quickSize } = await import('./size');
    const started = new Date();
    console.log(`# npm run bench${quick ? ' (BENCH_QUICK=1: small N, figures not meaningful)' : ''}`);
    console.log('');
    console.log(`${started.toISOString()} · ${machine()} · DynamoDB Local (in memory) on the same machine`);
    console.log('');
    let last = Date.now();
    await runBench(quick ? quickSize : fullSize, (table) => {
      console.log(`${markdown(table)}\n`);
      console.error(`(table ${table.id}: ${((Date.now() - last) / 1000).toFixed(1)} s)`);
      last = Date.now();
    });
    console.log(`Done in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s.`);
  } finally {
    await dynamo.stop();
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
