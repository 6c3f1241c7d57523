import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { ensureTable } from '../../lib/local/tables';

const endpoint = inject('dynamoEndpoint');
// Tests write and delete freely: refuse anything but a database on this machine.
if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(endpoint)) {
  throw new Error(`Tests run only against a local DynamoDB endpoint, not ${endpoint}`);
}

process.env.DYNAMODB_ENDPOINT = endpoint;
process.env.AWS_REGION = 'us-east-1';
process.env.TABLE_NAME = `test-${randomUUID()}`;
// Each request's log line would drown the test output; a 5xx's still shows (or is captured).
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const admin = new DynamoDBClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
// No stream unless the file reads it (streamThisTable): DynamoDB Local slows down as stream
// records pile up (lib/local/tables.ts), and a whole run would reach that.
await ensureTable(admin, process.env.TABLE_NAME, { stream: false });
admin.destroy();
