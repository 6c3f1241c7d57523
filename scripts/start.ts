/**
 * `npm start`: DynamoDB Local, the table from the table spec, and the whole route table
 * served over node:http, in one process tree. `npm start -- --in-memory` keeps no data.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { loadHandler } from '../functions/index';
import { attachLive, LIVE_PATH } from '../lib/live/local';
import { demoUsers } from '../lib/local/demo-users';
import { startDynamoLocal } from '../lib/local/dynamodb-local';
import { createLocalServer } from '../lib/local/server';
import { ensureTable } from '../lib/local/tables';
import { localTokens, newSigningSecret } from '../lib/local/tokens';

const USAGE = `Usage: npm start [-- --in-memory]

Serves the API over DynamoDB Local (started and stopped with it).
  --in-memory   keep no data (default: keep it in DATA_DIR)
  --help        print this and exit
Environment: PORT (default 3000), HOST (default 127.0.0.1; 0.0.0.0 for every interface),
DATA_DIR (default .data).`;

/** Ends with one sentence, before anything was started. */
const refuse = (sentence: string): never => {
  console.error(`${sentence}\n\n${USAGE}`);
  process.exit(2);
};

const flags = process.argv.slice(2);
if (flags.includes('--help') || flags.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknownFlag = flags.find((flag) => flag !== '--in-memory');
if (unknownFlag) refuse(`Unknown option: ${unknownFlag}.`);
const inMemory = flags.includes('--in-memory');

const parsedEnv = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATA_DIR: z.string().min(1).default('.data'),
  })
  .safeParse(process.env);
if (!parsedEnv.success) {
  const names = [...new Set(parsedEnv.error.issues.map((issue) => String(issue.path[0])))];
  refuse(
    names.includes('PORT')
      ? `PORT must be a whole number from 0 to 65535, not '${process.env.PORT}'.`
      : `Invalid ${names.join(', ')}.`,
  );
}
const env = parsedEnv.data as { PORT: number; HOST: string; DATA_DIR: string };
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

/** Listens, or says in one sentence why the port cannot be had. */
const listen = (server: Server, port: number, host: string): Promise<void> =>
  new Promise((listening, failed) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      failed(
        new Error(
          error.code === 'EADDRINUSE'
            ? `Port ${port} on ${host} is in use: stop what runs there, or start with another PORT.`
            : `Cannot listen on ${host}:${port}: ${error.message}.`,
        ),
      ),
    );
    server.listen(port, host, () => listening());
  });

const main = async (): Promise<void> => {
  // The port first: if it cannot be had, nothing else is started.
  const probe = createServer();
  await listen(probe, env.PORT, env.HOST);
  await new Promise((closed) => probe.close(closed));
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
  // Changes pushed to open pages, from DynamoDB Local's stream of the table (lib/live).
  const live = attachLive(server, { tokens, endpoint: dynamo.endpoint, tableName: TABLE_NAME });
  try {
    await live.ready;
    await listen(server, env.PORT, env.HOST);
  } catch (error) {
    await live.stop();
    await dynamo.stop();
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  const url = `http://localhost:${port}`;

  const lines = [
    `API listening on ${url} (DynamoDB Local on ${dynamo.endpoint}, ${inMemory ? 'in memory' : `data in ${resolve(env.DATA_DIR)}`})`,
    `Live changes on ${url.replace(/^http/, 'ws')}${LIVE_PATH}?token=<token>`,
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

  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    server.close();
    await live.stop();
    await dynamo.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  // `kill -TERM` of npm reaches only its shell, which dies without passing it on: when the
  // process that started this one is gone (the parent changes), this one stops too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown();
  }, 250).unref();
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
