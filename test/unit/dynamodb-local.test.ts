import { afterEach, describe, expect, it } from 'vitest';
import { startDynamoLocal } from '../../lib/local/dynamodb-local';

const path = process.env.PATH;

describe('DynamoDB Local management', () => {
  afterEach(() => {
    process.env.PATH = path;
  });

  it('without Java, says in one sentence what to install', async () => {
    process.env.PATH = '/nonexistent';
    await expect(startDynamoLocal()).rejects.toThrow(
      'DynamoDB Local needs Java 17 or newer and no `java` was found on the PATH: install a JRE (on Debian: `apt-get install -y openjdk-17-jre-headless`) and start again.',
    );
  });
});
