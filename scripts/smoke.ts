/**
 * `npm run smoke -- --url <base URL> --token <JWT>`: runs the seed scenarios against a
 * deployed stack (the `ApiUrl` output, a Cognito token) or the local server (`npm start`
 * prints its URL and tokens), and reports each one. The token's user needs all six groups
 * (docs/operations.md, Smoke test). Exit code 0 when every scenario passed, 1 otherwise.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiError } from '../lib/client/answers';
import { type ApiClient, createApiClient } from '../lib/client/api-client';

export interface ScenarioResult {
  name: string;
  ok: boolean;
  /** What was shown, or what went wrong. */
  detail: string;
}

/** Fails the scenario with what was expected and what came. */
const expectThat = (holds: boolean, what: string): void => {
  if (!holds) throw new Error(what);
};

/** The problem code a call is refused with (it must be refused). */
const refusal = async (call: Promise<unknown>): Promise<string> => {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiError) return `${error.status} ${error.code}`;
    throw error;
  }
  throw new Error('expected a refusal, got a success');
};

const run = Date.now().toString(36);

/** The seed scenarios: each the shortest story that shows one promise of the API, end to end. */
export const scenarios: { name: string; run: (client: ApiClient) => Promise<string> }[] = [
  {
    name: 'health and OpenAPI document are public',
    run: async (client) => {
      const health = await client.call('GET /health');
      const document = await client.call('GET /openapi.json');
      expectThat(health.status === 200 && document.status === 200, 'GET /health or /openapi.json failed');
      return 'GET /health 200, GET /openapi.json 200';
    },
  },
  {
    name: 'no lost update: a stale write is refused with the current record, then merged',
    run: async (client) => {
      const created = await client.call('POST /annotations', { body: { name: `smoke ${run}` } });
      const id = created.body.id;
      const first = await client.call('PATCH /annotations/{id}', {
        params: { id },
        ifMatch: 1,
        body: { description: 'first edit' },
      });
      const stale = await refusal(
        client.call('PATCH /annotations/{id}', { params: { id }, ifMatch: 1, body: { tags: ['second'] } }),
      );
      expectThat(stale === '412 STALE_DATA', `a stale write answered ${stale}`);
      const merged = await client.call('PATCH /annotations/{id}', {
        params: { id },
        ifMatch: first.etag ?? 0,
        body: { tags: ['second'] },
      });
      expectThat(merged.body.description === 'first edit', 'the merge lost the first edit');
      return `v1 → v2, stale v1 write ${stale}, merged as v${merged.etag}`;
    },
  },
  {
    name: 'exactly once: a repeated create with its Idempotency-Key is the same record',
    run: async (client) => {
      const idempotencyKey = `smoke-${run}-create`;
      const body = { name: `once ${run}` };
      const first = await client.call('POST /annotations', { body, idempotencyKey });
      const again = await client.call('POST /annotations', { body, idempotencyKey });
      expectThat(first.body.id === again.body.id && again.replayed, 'the repeat created another record');
      return `same id ${first.body.id}, replayed`;
    },
  },
  {
    name: 'locks: a held lock refuses another writer, a supervisor breaks it',
    run: async (client) => {
      const { body } = await client.call('POST /annotations', { body: { name: `locked ${run}` } });
      const lease = await client.call('POST /annotations/{id}/lock', { params: { id: body.id }, body: {} });
      const refused = await refusal(
        client.call('PATCH /annotations/{id}', {
          params: { id: body.id },
          ifMatch: 1,
          body: { tags: ['x'] },
        }),
      );
      expectThat(refused === '423 LOCKED', `a write past the lock answered ${refused}`);
      const released = await client.call('DELETE /annotations/{id}/lock', { params: { id: body.id } });
      expectThat(released.status === 204, 'the lock was not released');
      return `lock fence ${lease.body.fence}, other write ${refused}, released 204`;
    },
  },
  {
    name: 'orders: lines under the order version, a stale line refused, approval',
    run: async (client) => {
      const order = await client.call('POST /orders', {
        body: { customer: `Smoke ${run}`, lines: [{ sku: 'A', quantity: 1, unitPrice: 100 }] },
      });
      const id = order.body.id;
      const added = await client.call('POST /orders/{id}/lines', {
        params: { id },
        ifMatch: 1,
        body: { sku: 'B', quantity: 2, unitPrice: 50 },
      });
      const stale = await refusal(
        client.call('POST /orders/{id}/lines', {
          params: { id },
          ifMatch: 1,
          body: { sku: 'C', quantity: 1, unitPrice: 1 },
        }),
      );
      expectThat(stale === '412 STALE_DATA', `a stale line answered ${stale}`);
      const approved = await client.call('POST /orders/{id}/transitions', {
        params: { id },
        ifMatch: added.etag ?? 0,
        body: { to: 'approved' },
      });
      expectThat(approved.body.status === 'approved', 'the order was not approved');
      const read = await client.call('GET /orders/{id}', { params: { id } });
      const total = 'notModified' in read ? undefined : read.body.total;
      expectThat(Number(total) === 200, `the total is ${String(total)}, not 200`);
      return `2 lines, total 200, stale line ${stale}, approved as v${approved.etag}`;
    },
  },
  {
    name: 'field groups: two departments change one debtor at once, neither loses',
    run: async (client) => {
      const { body } = await client.call('POST /debtors', {
        body: { name: `Smoke ${run} GmbH`, country: 'DE' },
      });
      const id = body.id;
      const address = await client.call('PATCH /debtors/{id}', {
        params: { id },
        body: {
          base: { street: null, city: null, postalCode: null, country: 'DE' },
          set: { city: 'Berlin' },
        },
      });
      const credit = await client.call('PATCH /debtors/{id}', {
        params: { id },
        body: { base: { creditLimit: null, paymentTermsDays: null }, set: { creditLimit: 5000 } },
      });
      const posted = await client.call('POST /debtors/{id}/postings', {
        params: { id },
        body: { amount: 250, reference: `INV-${run}` },
      });
      expectThat(
        address.body.groups.address === 'applied' && credit.body.record.city === 'Berlin',
        'one group change lost the other',
      );
      return `address and credit both applied, balance ${posted.body.balance}`;
    },
  },
  {
    name: 'stock: a movement counted once however often it is sent',
    run: async (client) => {
      const id = `SMOKE-${run.toUpperCase()}`;
      await client.call('POST /articles', { body: { id, description: 'Smoke widget' } });
      const idempotencyKey = `smoke-${run}-stock`;
      const movement = { params: { id }, body: { delta: 5, reason: 'delivery' }, idempotencyKey };
      await client.call('POST /articles/{id}/stock-movements', movement);
      const again = await client.call('POST /articles/{id}/stock-movements', movement);
      expectThat(again.body.inStock === 5 && again.replayed, `stock is ${again.body.inStock} after a repeat`);
      return 'in stock 5 after the movement was sent twice';
    },
  },
  {
    name: 'money: deposit, transfer, and a ledger that adds up',
    run: async (client) => {
      const from = (
        await client.call('POST /accounts', { body: { name: `Smoke from ${run}`, currency: 'EUR' } })
      ).body.id;
      const to = (await client.call('POST /accounts', { body: { name: `Smoke to ${run}`, currency: 'EUR' } }))
        .body.id;
      await client.call('POST /accounts/{id}/deposits', { params: { id: from }, body: { amount: 100 } });
      const transfer = await client.call('POST /transfers', { body: { from, to, amount: 30 } });
      const entries = await client.call('GET /accounts/{id}/entries', { params: { id: from } });
      const sum =
        'notModified' in entries ? Number.NaN : entries.body.items.reduce((a, e) => a + e.amount, 0);
      expectThat(
        transfer.body.balances[from] === 70 && sum === 70,
        `balance ${transfer.body.balances[from]}, entries ${sum}`,
      );
      return 'balances 70 and 30, entries sum to 70';
    },
  },
];

/** Runs every scenario in order, each on its own: one failing does not stop the others. */
export const runSmoke = async (client: ApiClient): Promise<ScenarioResult[]> => {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    try {
      results.push({ name: scenario.name, ok: true, detail: await scenario.run(client) });
    } catch (error) {
      results.push({
        name: scenario.name,
        ok: false,
        detail: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' } } });
  const url = values.url ?? process.env.API_URL;
  const token = values.token ?? process.env.API_TOKEN;
  if (!url || !token) {
    console.error('Usage: npm run smoke -- --url <base URL> --token <JWT>   (or API_URL and API_TOKEN)');
    process.exit(2);
  }
  const results = await runSmoke(createApiClient({ baseUrl: url.replace(/\/$/, ''), token }));
  for (const result of results)
    console.log(`${result.ok ? 'PASS' : 'FAIL'}  ${result.name}\n      ${result.detail}`);
  const failed = results.filter((result) => !result.ok).length;
  console.log(`\n${results.length - failed} of ${results.length} scenarios passed against ${url}`);
  process.exitCode = failed === 0 ? 0 : 1;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
