import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type ApiClient, createApiClient } from '../lib/client/api-client';
import { isRetryableConflict, updateWithRetry } from '../lib/client/retry';
import { type BenchTable, ratio } from './measure';
import type { BenchServer } from './server';
import type { BenchSize } from './size';

/** One way of adding 1 to one hot record through the HTTP API. */
interface Mode {
  name: string;
  control?: boolean;
  /** Makes the hot record; answers its id. */
  setup(client: Client): Promise<string>;
  /** The read step of the helper (nothing, for an atomic route). */
  read(client: Client, id: string): Promise<{ value: number; version: number }>;
  /** The write step: one increment from what was read; `key` is the increment's own Idempotency-Key. */
  write(client: Client, id: string, read: { value: number; version: number }, key: string): Promise<unknown>;
  /** The value as stored now. */
  value(client: Client, id: string): Promise<number>;
}

/** A simulated client: the typed client, and plain requests as a hand-written client sends them. */
interface Client {
  api: ApiClient;
  plain: (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ) => Promise<{ status: number }>;
}

const readCounter = async (client: Client, id: string) => {
  const answer = await client.api.call('GET /annotations/{id}', { params: { id } });
  if (!('body' in answer)) throw new Error('A GET without If-None-Match answered 304.');
  return { value: Number(answer.body.description), version: answer.body.version };
};

const counterSetup = async (client: Client) =>
  (await client.api.createAnnotation({ name: 'hot counter', description: '0' })).id;

/**
 * Read-modify-write of an annotation's counter as it is usually written by hand: read, add
 * one, write it back with `If-Match: *` (one UpdateItem, no key: last writer wins).
 */
const naive = (name: string, control = false): Mode => ({
  name,
  ...(control ? { control } : {}),
  setup: counterSetup,
  read: readCounter,
  write: async (client, id, read) => {
    const answer = await client.plain(
      'PATCH',
      `/annotations/${id}`,
      { description: String(read.value + 1) },
      { 'if-match': '*' },
    );
    if (answer.status !== 200) throw new Error(`PATCH with If-Match: * answered ${answer.status}`);
  },
  value: async (client, id) => (await readCounter(client, id)).value,
});

/**
 * Read-modify-write with the version read (`If-Match: "<version>"`) through the typed client:
 * each attempt is a new change from a new read, so the client gives each its own key.
 */
const versioned: Mode = {
  name: 'read-modify-write, `If-Match: <version>` + `updateWithRetry`',
  setup: counterSetup,
  read: readCounter,
  write: (client, id, read) =>
    client.api.call('PATCH /annotations/{id}', {
      params: { id },
      body: { description: String(read.value + 1) },
      ifMatch: read.version,
    }),
  value: async (client, id) => (await readCounter(client, id)).value,
};

const noRead = async () => ({ value: 0, version: 0 });

const deposit: Mode = {
  name: 'atomic: `POST /accounts/{id}/deposits`',
  setup: async (client) =>
    (
      (await client.api.call('POST /accounts', { body: { name: 'hot account', currency: 'EUR' } })).body as {
        id: string;
      }
    ).id,
  read: noRead,
  write: (client, id, _read, key) =>
    client.api.call('POST /accounts/{id}/deposits', {
      params: { id },
      body: { amount: 1 },
      idempotencyKey: key,
    }),
  value: async (client, id) => {
    const answer = await client.api.call('GET /accounts/{id}', { params: { id } });
    return Number((answer as { body: { balance: number } }).body.balance);
  },
};

const posting: Mode = {
  name: 'atomic: `POST /debtors/{id}/postings`',
  setup: async (client) =>
    ((await client.api.call('POST /debtors', { body: { name: 'hot debtor' } })).body as { id: string }).id,
  read: noRead,
  write: (client, id, _read, key) =>
    client.api.call('POST /debtors/{id}/postings', {
      params: { id },
      body: { amount: 1, reference: 'bench' },
      idempotencyKey: key,
    }),
  value: async (client, id) => {
    const answer = await client.api.call('GET /debtors/{id}', { params: { id } });
    return Number((answer as { body: { balance: number } }).body.balance);
  },
};

const NAIVE = 'read-modify-write by hand, `If-Match: *`';
const modes: Mode[] = [naive(NAIVE), versioned, deposit, posting, naive(`${NAIVE} again (control)`, true)];

/** Resolves every waiter once `parties` have arrived: the C clients open the record at one moment. */
const barrier = (parties: number) => {
  let arrived = 0;
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived >= parties) open();
    return opened;
  };
};

export interface ContentionResult {
  mode: string;
  clients: number;
  /** Increments the API answered as done. */
  acknowledged: number;
  /** What the stored value grew by. */
  effective: number;
  /** Acknowledged but not in the value: lost updates. */
  lost: number;
  /** Increments the helper gave up on after its attempt limit (STALE_DATA or WRITE_CONTENTION each time). */
  gaveUp: number;
  /** Write attempts beyond the first, per acknowledged increment. */
  retriesPerSuccess: number;
  /** Most attempts one increment took. */
  mostAttempts: number;
  seconds: number;
}

/**
 * C clients, each making K increments one after another, all through `updateWithRetry` (the
 * helper automated writers use, with its default attempt limit), the atomic routes with an
 * empty read step and one Idempotency-Key kept across the attempts of an increment.
 * Every client's first read waits for all C first reads, as C users who opened the record
 * at the same moment.
 */
const runMode = async (
  mode: Mode,
  clients: Client[],
  increments: number,
  admin: Client,
): Promise<ContentionResult> => {
  const id = await mode.setup(admin);
  const before = await mode.value(admin, id);
  const arrive = barrier(clients.length);
  let acknowledged = 0;
  let gaveUp = 0;
  let attempts = 0;
  let mostAttempts = 0;
  const start = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      for (let k = 0; k < increments; k++) {
        const key = randomUUID();
        let own = 0;
        try {
          await updateWithRetry({
            read: async () => {
              const read = await mode.read(client, id);
              if (k === 0 && own === 0) await arrive();
              return read;
            },
            write: (read) => {
              own += 1;
              return mode.write(client, id, read, key);
            },
          });
          acknowledged += 1;
        } catch (error) {
          if (!isRetryableConflict(error)) throw error;
          gaveUp += 1;
        }
        attempts += own;
        mostAttempts = Math.max(mostAttempts, own);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const effective = (await mode.value(admin, id)) - before;
  return {
    mode: mode.name,
    clients: clients.length,
    acknowledged,
    effective,
    lost: acknowledged - effective,
    gaveUp,
    retriesPerSuccess:
      acknowledged === 0 ? Number.NaN : (attempts - clients.length * increments) / acknowledged,
    mostAttempts,
    seconds,
  };
};

/**
 * 4. Contention on one hot record through the HTTP API: acknowledged vs effective increments
 * (the difference is lost updates), effective throughput as a ratio to one client writing
 * by hand (`If-Match: *`, C = 1), retries per success, and the share the helper gave up on.
 */
export const contentionTable = async (
  server: BenchServer,
  size: BenchSize,
): Promise<{ table: BenchTable; results: ContentionResult[] }> => {
  const clientOf = async (sub: string): Promise<Client> => {
    const token = await server.tokenFor(sub, 'finance', 'customer-relations');
    return {
      api: createApiClient({ baseUrl: server.url, token }),
      plain: (method, path, body, headers) => server.call(token, method, path, { body, headers }),
    };
  };
  const admin = await clientOf('bench-admin');
  // Unmeasured: every mode once, so each function's module is loaded and warm before any figure.
  for (const mode of modes) await runMode(mode, [admin], 1, admin);
  const results: ContentionResult[] = [];
  for (const [index, clientCount] of size.contention.clients.entries()) {
    const clients = await Promise.all(Array.from({ length: clientCount }, (_, c) => clientOf(`bench-${c}`)));
    // The order rotates with C, so no mode always runs first or last.
    const order = modes.map((_, m) => modes[(m + index) % modes.length] as Mode);
    const byMode = new Map<string, ContentionResult>();
    for (const mode of order)
      byMode.set(mode.name, await runMode(mode, clients, size.contention.increments, admin));
    results.push(...modes.map((mode) => byMode.get(mode.name) as ContentionResult));
  }
  const throughput = (result: ContentionResult) => result.effective / result.seconds;
  const alone = results.find((result) => result.mode === NAIVE && result.clients === 1) as ContentionResult;
  const table: BenchTable = {
    id: 'contention',
    title: `4. Contention on one hot record through the HTTP API (C clients × ${size.contention.increments} increments)`,
    headers: [
      'C',
      'way of incrementing',
      'acknowledged',
      'effective',
      'lost updates',
      'effective throughput vs one client by hand',
      'retries per success',
      'gave up at the attempt limit',
    ],
    rows: results.map((result) => ({
      cells: [
        String(result.clients),
        result.mode,
        String(result.acknowledged),
        String(result.effective),
        `**${result.lost}**`,
        ratio(throughput(result), throughput(alone)),
        Number.isFinite(result.retriesPerSuccess) ? result.retriesPerSuccess.toFixed(2) : '–',
        `${((100 * result.gaveUp) / (result.clients * size.contention.increments)).toFixed(1)} %`,
      ],
      ...(modes.find((mode) => mode.name === result.mode)?.control ? { control: true } : {}),
    })),
    notes: [
      'Every way goes through `updateWithRetry` (lib/core/retry.ts, its default attempt limit). By hand: a plain PATCH with `If-Match: *` and no key (one UpdateItem, last writer wins). Versioned: the typed client, a new key per attempt (each is a new change from a new read). Atomic routes: no read step, one Idempotency-Key kept across the attempts of an increment.',
      "Every client's first read waits for all C first reads: C users who opened the record at the same moment. Effective = what the stored value grew by; lost = acknowledged − effective. Throughput = effective increments per second, as a ratio to one client by hand (first row).",
      `Gave up = the helper's attempts all met a conflict; the most attempts one increment took: ${Math.max(...results.map((result) => result.mostAttempts))}.`,
    ],
  };
  return { table, results };
};
