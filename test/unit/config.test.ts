import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('config', () => {
  it('names every missing or bad variable', () => {
    expect(() => parseConfig({ DYNAMODB_ENDPOINT: 'not a url' })).toThrow(
      'Invalid environment: TABLE_NAME, DYNAMODB_ENDPOINT',
    );
    expect(parseConfig({ TABLE_NAME: 't' })).toEqual({ TABLE_NAME: 't', AWS_REGION: 'us-east-1' });
  });

  it('a function without TABLE_NAME fails its cold start, before any request', () => {
    const { TABLE_NAME: _table, ...env } = process.env;
    const coldStart = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', "await import('./functions/annotations.ts')"],
      { cwd: root, env, encoding: 'utf8' },
    );
    expect(coldStart.status).not.toBe(0);
    expect(coldStart.stderr).toContain('Invalid environment: TABLE_NAME');
  });
});
