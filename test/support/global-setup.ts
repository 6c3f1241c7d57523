import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startDynamoLocal } from '../../lib/local/dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/**
 * One DynamoDB Local (in memory) for the whole run; every test file gets its own table in it.
 * First the OpenAPI document is built as `npm run openapi` builds it: what the local server
 * serves, the stack bundles, and the tests read, as a tool that has only the document would.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/openapi.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`npm run openapi failed:\n${built.stdout}${built.stderr}`);
  const dynamo = await startDynamoLocal();
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return () => dynamo.stop();
}
