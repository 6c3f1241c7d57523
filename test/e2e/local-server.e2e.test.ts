import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../lib/local/dynamodb-local';

/**
 * `npm start` as a newcomer meets it: started as its own process, provoked, and checked for
 * what it leaves behind (no DynamoDB Local may outlive it, however it ends).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * The environment of a person's shell: this file's own database settings left out, so that
 * `npm start` is tried as it runs on a fresh machine (an import that needs TABLE_NAME before
 * the script has set it would otherwise pass here and fail there).
 */
const { TABLE_NAME: _table, DYNAMODB_ENDPOINT: _endpoint, AWS_REGION: _region, ...shell } = process.env;

const start = (args: string[], env: Record<string, string>, via: 'node' | 'npm' = 'node'): Started => {
  const [command, prefix] =
    via === 'npm' ? ['npm', ['start', '--']] : [process.execPath, ['--import', 'tsx', 'scripts/start.ts']];
  const child = spawn(command, [...prefix, ...args], {
    cwd: root,
    env: { ...shell, DATA_DIR: mkdtempSync(join(tmpdir(), 'start-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
};

/** Resolves once `condition` holds, checking every 100 ms; fails after `ms`. */
const eventually = async (condition: () => boolean, ms: number, what: string): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((tick) => setTimeout(tick, 100));
  }
};

/** The DynamoDB Local processes on this machine serving `port`, from /proc. */
const dynamoLocalOn = (port: number): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return command.some((part) => part.includes('DynamoDBLocal.jar')) && command.includes(String(port));
      } catch {
        return false;
      }
    })
    .map(Number);

/** The node processes running scripts/start.ts with this PORT (not npm's shell), from /proc. */
const serversOn = (port: number): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const program = command.split('\0')[0]?.split('/').pop();
        const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        return (
          program === 'node' && command.includes('scripts/start.ts') && environment.includes(`PORT=${port}`)
        );
      } catch {
        return false;
      }
    })
    .map(Number);

const dynamoPortOf = (output: string): number =>
  Number(/DynamoDB Local on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);

describe('npm start, for a newcomer', () => {
  it('--help prints the usage and starts nothing', async () => {
    const started = start(['--help'], {});
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('Usage: npm start [-- --in-memory]');
  });

  it('an unknown flag is refused in one sentence, before anything starts', async () => {
    const started = start(['--in-memroy'], {});
    expect(await started.exited).toBe(2);
    expect(started.output().split('\n')[0]).toBe('Unknown option: --in-memroy.');
  });

  it('a PORT that is not a port is refused in one sentence', async () => {
    const started = start([], { PORT: 'abc' });
    expect(await started.exited).toBe(2);
    expect(started.output().split('\n')[0]).toBe("PORT must be a whole number from 0 to 65535, not 'abc'.");
  });

  it('a port in use: one sentence, exit 1, and no DynamoDB Local is started', async () => {
    const port = await freePort();
    const taken = createServer().listen(port, '127.0.0.1');
    await new Promise((listening) => taken.once('listening', listening));
    try {
      const started = start(['--in-memory'], { PORT: String(port) });
      expect(await started.exited).toBe(1);
      expect(started.output().trim()).toBe(
        `Port ${port} on 127.0.0.1 is in use: stop what runs there, or start with another PORT.`,
      );
    } finally {
      taken.close();
    }
  });

  it.each([
    ['SIGTERM', 0],
    ['SIGKILL', null],
  ] as const)('after %s of the server no DynamoDB Local is left running', async (signal, code) => {
    const port = await freePort();
    const started = start(['--in-memory'], { PORT: String(port), HOST: '127.0.0.1' });
    await eventually(() => started.output().includes('API listening on'), 90_000, 'the server to listen');
    const dynamoPort = dynamoPortOf(started.output());
    expect(dynamoLocalOn(dynamoPort)).toHaveLength(1);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    started.child.kill(signal);
    expect(await started.exited).toBe(code);
    await eventually(() => dynamoLocalOn(dynamoPort).length === 0, 10_000, 'DynamoDB Local to stop');
  });

  it('after SIGTERM of npm itself neither the server nor DynamoDB Local is left running', async () => {
    const port = await freePort();
    const started = start(['--in-memory'], { PORT: String(port), HOST: '127.0.0.1' }, 'npm');
    await eventually(() => started.output().includes('API listening on'), 90_000, 'the server to listen');
    const dynamoPort = dynamoPortOf(started.output());
    expect([serversOn(port).length, dynamoLocalOn(dynamoPort).length]).toEqual([1, 1]);
    started.child.kill('SIGTERM');
    await started.exited;
    await eventually(
      () => serversOn(port).length === 0 && dynamoLocalOn(dynamoPort).length === 0,
      10_000,
      'the server and DynamoDB Local to stop',
    );
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
