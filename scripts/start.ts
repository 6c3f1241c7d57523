/**
 * `npm start`: DynamoDB Local, the table from the table spec, and the whole route table
 * served over node:http, in one process tree. `npm start -- --in-memory` keeps no data.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { loadHandler } from '../functions/index';
import { startDynamoLocal } from '../lib/local/dynamodb-local';
import { createLocalServer } from '../lib/local/server';
import { ensureTable } from '../lib/local/tables';
import { localTokens, newSigningSecret } from '../lib/local/tokens';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    DATA_DIR: z.string().min(1).default('.data'),
  })
  .parse(process.env);
const inMemory = process.argv.includes('--in-memory');
const TABLE_NAME = 'no-lost-updates-local';

/** The signing secret lives beside the data, so printed tokens keep working across restarts. */
const signingSecret = (): Uint8Array => {
  if (inMemory) return newSigningSecret();
  const file = join(resolve(env.DATA_DIR), 'local-jwt-secret');
  if (existsSync(file)) return new Uint8Array(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  const secret = newSigningSecret();
  mkdirSync(resolve(env.DATA_DIR), { recursive: true });
  writeFileSync(file, Buffer.from(secret).toString('base64'), { mode: 0o600 });
  return secret;
};

const demoUsers = [
  { sub: 'alice', groups: ['sales'] },
  { sub: 'bob', groups: ['sales'] },
  { sub: 'carol', groups: ['supervisor'] },
  { sub: 'dave', groups: ['warehouse'] },
  { sub: 'erin', groups: ['finance'] },
  { sub: 'frank', groups: ['customer-relations'] },
  { sub: 'grace', groups: ['purchasing'] },
];

const main = async (): Promise<void> => {
  const dynamo = await startDynamoLocal(inMemory ? {} : { dataDir: join(env.DATA_DIR, 'dynamodb') });
  process.env.TABLE_NAME = TABLE_NAME;
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  const admin = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(admin, TABLE_NAME);
  admin.destroy();

  const tokens = localTokens(signingSecret());
  const server = createLocalServer(tokens, loadHandler);
  await new Promise<void>((listening) => server.listen(env.PORT, '127.0.0.1', listening));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  const url = `http://localhost:${port}`;

  const lines = [
    `API listening on ${url} (DynamoDB Local on ${dynamo.endpoint}, ${inMemory ? 'in memory' : `data in ${resolve(env.DATA_DIR)}`})`,
    '',
    'Tokens for demo users (valid 24 h; POST /_local/token {"sub","groups"} makes more):',
  ];
  for (const user of demoUsers) {
    const token = await tokens.sign({ ...user, ttlSeconds: 24 * 3600 });
    lines.push(`  ${user.sub.padEnd(6)} ${user.groups.join(',').padEnd(19)} ${token}`);
  }
  const alice = await tokens.sign({ ...demoUsers[0], sub: 'alice', ttlSeconds: 24 * 3600 });
  lines.push(
    '',
    'Try:',
    `  curl -s -X POST ${url}/annotations -H "Authorization: Bearer ${alice}" -H 'Content-Type: application/json' -d '{"name":"first"}'`,
    '',
  );
  console.log(lines.join('\n'));

  const shutdown = async (): Promise<void> => {
    server.close();
    await dynamo.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
