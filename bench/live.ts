import { performance } from 'node:perf_hooks';
import { type ApiClient, createApiClient } from '../lib/client/api-client';
import { createLiveClient } from '../lib/client/live-client';
import { type BenchTable, ratio } from './measure';
import type { BenchServer } from './server';
import type { BenchSize } from './size';

/** How often an open page asks again without the live channel (the web app's default). */
export const POLL_MS = 5000;

/** The value below which a fraction `p` of the sorted values lie (nearest rank). */
const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
};

/** A WebSocket that counts the messages it sends and receives: what an idle page costs. */
const countingSocket = (counts: { messages: number }) =>
  class extends WebSocket {
    constructor(url: string) {
      super(url);
      this.addEventListener('message', () => {
        counts.messages += 1;
      });
    }
    override send(data: string) {
      counts.messages += 1;
      super.send(data);
    }
  };

const pause = (ms: number) => new Promise((resume) => setTimeout(resume, ms));

/**
 * A page that polls one record as the web app does without the live channel: a GET with
 * If-None-Match every POLL_MS, the first at a random moment of the interval (pages are opened
 * whenever); `seen` hears each new version with the moment it was seen.
 */
const poller = (client: ApiClient, id: string, seen: (version: number, at: number) => void) => {
  let version = 1;
  let stopped = false;
  let requests = 0;
  const done = (async () => {
    await pause(Math.random() * POLL_MS);
    while (!stopped) {
      requests += 1;
      const answer = await client.call('GET /annotations/{id}', { params: { id }, ifNoneMatch: version });
      if ('body' in answer && answer.body.version > version) {
        version = answer.body.version;
        seen(version, performance.now());
      }
      if (!stopped) await pause(POLL_MS);
    }
  })();
  return {
    requests: () => requests,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
};

/**
 * 7. A change visible to another open page: from the moment the writer has its answer to the
 * moment a second client knows of the change, pushed by the live channel (the local server's
 * WebSocket, fed from DynamoDB Local's stream) against polling every 5 s; and what an idle
 * open page costs either way.
 */
export const liveTable = async (server: BenchServer, size: BenchSize): Promise<BenchTable> => {
  const token = await server.tokenFor('bench-writer', 'sales');
  const reader = await server.tokenFor('bench-reader', 'sales');
  const writer = createApiClient({ baseUrl: server.url, token });
  const observer = createApiClient({ baseUrl: server.url, token: reader });
  const { pushSamples, pollRounds, pollers, idleSeconds } = size.live;
  const liveUrl = await server.startLive();

  // The idle pages, counted through the whole measurement: one polling, one live (its record
  // open, as a record page has it), each on a record nobody changes.
  const quiet = await writer.createAnnotation({ name: 'bench idle' });
  const idleCounts = { messages: 0 };
  const idleLive = createLiveClient({
    url: liveUrl,
    token: () => reader,
    WebSocket: countingSocket(idleCounts),
  });
  // Counted once the page has opened (subscribed, its presence said): what it costs while idle.
  await new Promise<void>((opened) => {
    idleLive.watch(`record/annotations/${quiet.id}`, (notice) => {
      if (notice.type === 'resync') opened();
    });
    idleLive.present('annotations', quiet.id, 'viewing');
  });
  idleCounts.messages = 0;
  const idlePoller = poller(observer, quiet.id, () => undefined);
  const idleStart = performance.now();
  // What the idle pages did in the window, read as it ends (the measurement may run longer).
  const idleWindow = pause(idleSeconds * 1000).then(() => ({
    minutes: (performance.now() - idleStart) / 60_000,
    pollRequests: idlePoller.requests(),
    liveMessages: idleCounts.messages,
  }));

  // Push: one live client, the records watched; each write waits for its event.
  const pushed = createLiveClient({ url: liveUrl, token: () => reader });
  const arrivals = new Map<string, { version: number; at: number; wake: () => void }>();
  const latencies = new Map<string, number[]>([
    ['push', []],
    ['control', []],
  ]);
  const pushOnce = async (name: string, id: string, version: number) => {
    // People write whenever they do, not just as the last event arrives.
    await pause(Math.random() * 100);
    const arrived = new Promise<number>((resolve) => {
      arrivals.set(id, { version: version + 1, at: 0, wake: () => resolve(performance.now()) });
    });
    await writer.patchAnnotation(id, version, { description: `v${version + 1}` });
    const answered = performance.now();
    const at = await arrived;
    latencies.get(name)?.push(Math.max(0, at - answered));
  };
  const records = new Map<string, { id: string; version: number }>();
  for (const name of ['push', 'control']) {
    const { id } = await writer.createAnnotation({ name: `bench live ${name}` });
    records.set(name, { id, version: 1 });
    await new Promise<void>((subscribed) => {
      pushed.watch(`record/annotations/${id}`, (notice) => {
        if (notice.type === 'resync') subscribed();
        if (notice.type !== 'change') return;
        const waiting = arrivals.get(notice.event.id);
        if (waiting && notice.event.version >= waiting.version) {
          arrivals.delete(notice.event.id);
          waiting.wake();
        }
      });
    });
  }

  // Polling: a round of pages, each on its own record, every record written once.
  const polled: number[] = [];
  const pollRound = async () => {
    const ids = await Promise.all(
      Array.from(
        { length: pollers },
        async (_, i) => (await writer.createAnnotation({ name: `bench poll ${i}` })).id,
      ),
    );
    const seenAt = new Map<string, number>();
    let wake = () => undefined as unknown;
    const pages = ids.map((id) =>
      poller(observer, id, (_version, at) => {
        seenAt.set(id, at);
        wake();
      }),
    );
    const answeredAt = new Map<string, number>();
    await Promise.all(
      ids.map(async (id) => {
        await writer.patchAnnotation(id, 1, { description: 'polled' });
        answeredAt.set(id, performance.now());
      }),
    );
    await new Promise<void>((all) => {
      wake = () => (seenAt.size === ids.length ? all() : undefined);
      wake();
    });
    await Promise.all(pages.map((page) => page.stop()));
    for (const id of ids) polled.push(Math.max(0, (seenAt.get(id) ?? 0) - (answeredAt.get(id) ?? 0)));
  };

  // Alternating: push samples (the contender and its control in turn), then a polling round.
  const perRound = Math.ceil(pushSamples / pollRounds);
  for (let round = 0; round < pollRounds; round++) {
    for (let i = 0; i < perRound; i++)
      for (const name of round % 2 === 0 ? ['push', 'control'] : ['control', 'push']) {
        const record = records.get(name) as { id: string; version: number };
        await pushOnce(name, record.id, record.version);
        record.version += 1;
      }
    await pollRound();
  }

  const { minutes: idleMinutes, pollRequests, liveMessages } = await idleWindow;
  await idlePoller.stop();
  idleLive.close();
  pushed.close();

  const push = latencies.get('push') ?? [];
  const control = latencies.get('control') ?? [];
  const basis = percentile(push, 0.95);
  const ms = (value: number) => String(Math.round(value));
  const row = (name: string, values: number[], http: string, messages: string, isControl = false) => ({
    cells: [
      name,
      String(values.length),
      ms(percentile(values, 0.5)),
      ms(percentile(values, 0.95)),
      ratio(percentile(values, 0.95), basis),
      http,
      messages,
    ],
    ...(isControl ? { control: true } : {}),
  });
  const perMinute = (count: number) => (count / idleMinutes).toFixed(1);
  return {
    id: 'live',
    title: '7. A change visible to another open page: pushed vs polled',
    headers: [
      'how the other page learns of it',
      'samples',
      'p50 ms (write answered → known)',
      'p95 ms',
      'p95 vs push',
      'HTTP requests per idle open page per minute',
      'socket messages per idle open page per minute',
    ],
    rows: [
      row(
        'push: the live channel (WebSocket, from the table’s stream)',
        push,
        '0.0',
        perMinute(liveMessages),
      ),
      row(
        `polling every ${POLL_MS / 1000} s with If-None-Match (the fallback)`,
        polled,
        perMinute(pollRequests),
        '0.0',
      ),
      row('push again (control)', control, '0.0', perMinute(liveMessages), true),
    ],
    notes: [
      `From the writer's answer (PATCH, keyed) to a second client knowing the new version: the live client's event, or the poll that first sees it (${pollRounds} rounds of ${pollers} pages, each opened at a random moment of the interval, alternating with the push samples, each written at a random moment of 100 ms). An event that came before the writer's answer counts 0 ms.`,
      `Idle pages over ${(idleMinutes * 60).toFixed(0)} s, beside the measurement: one polling, one with the record open on the live channel (its presence said again every minute; it sends no HTTP request, as the web app polls only while the channel is down). The server also pings every socket every 10 s (a control frame, answered by the browser; no message, no request).`,
      'Locally the server reads DynamoDB Local’s stream every 50 ms when idle; in AWS, Lambda polls the stream and API Gateway posts to the socket, so expect a few hundred ms there.',
    ],
  };
};
