import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useApi } from '../support/api';
import { rawRequest } from '../support/raw-http';

/** The document as `npm run openapi` built it (the test run's global setup runs it). */
const built = readFileSync(fileURLToPath(new URL('../../openapi.json', import.meta.url)));

const api = useApi();

describe('the contract, served', () => {
  it('GET /openapi.json needs no token and lists every route of the table', async () => {
    const answer = await api.call('GET', '/openapi.json');
    expect([answer.status, answer.body.openapi, answer.body.info.title]).toEqual([
      200,
      '3.1.0',
      'no-lost-updates',
    ]);
    expect(Object.keys(answer.body.paths)).toContain('/orders/{id}/lines/{lineId}');
  });

  it('GET /openapi.json serves the bytes built at build time, gzip to a client that takes it', async () => {
    const plain = await rawRequest(api.url, 'GET', '/openapi.json');
    const gzip = await rawRequest(api.url, 'GET', '/openapi.json', { 'accept-encoding': 'br, gzip;q=0.8' });
    const refused = await rawRequest(api.url, 'GET', '/openapi.json', { 'accept-encoding': 'gzip;q=0' });

    expect([plain.status, plain.headers['content-encoding'], plain.body.equals(built)]).toEqual([
      200,
      undefined,
      true,
    ]);
    expect([gzip.status, gzip.headers['content-encoding'], gunzipSync(gzip.body).equals(built)]).toEqual([
      200,
      'gzip',
      true,
    ]);
    expect(gzip.body.byteLength).toBeLessThan(built.byteLength / 5);
    expect(refused.headers['content-encoding']).toBeUndefined();
    for (const answer of [plain, gzip]) {
      expect([answer.headers['content-type'], answer.headers['cache-control'], answer.headers.vary]).toEqual([
        'application/json',
        'public, max-age=300',
        'Accept-Encoding',
      ]);
      expect(answer.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    }
    expect(gzip.headers.etag).not.toBe(plain.headers.etag);
  });

  it('GET /openapi.json with If-None-Match of either ETag is 304 without a body', async () => {
    const plain = await rawRequest(api.url, 'GET', '/openapi.json');
    const gzip = await rawRequest(api.url, 'GET', '/openapi.json', { 'accept-encoding': 'gzip' });
    const again = await Promise.all(
      [String(plain.headers.etag), `W/${gzip.headers.etag}`, `"other", ${plain.headers.etag}`].map((tag) =>
        rawRequest(api.url, 'GET', '/openapi.json', { 'if-none-match': tag, 'accept-encoding': 'gzip' }),
      ),
    );
    const changed = await rawRequest(api.url, 'GET', '/openapi.json', { 'if-none-match': '"other"' });

    expect(again.map((answer) => [answer.status, answer.body.byteLength, answer.headers.etag])).toEqual(
      Array(3).fill([304, 0, gzip.headers.etag]),
    );
    expect([changed.status, changed.body.equals(built)]).toEqual([200, true]);
  });

  it('GET /docs is a reference page whose script and styles come from this server, not a CDN', async () => {
    const page = await fetch(`${api.url}/docs`);
    const html = await page.text();
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(sources).toEqual(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']);
    for (const source of sources) {
      const loaded = await fetch(`${api.url}${source}`);
      expect(loaded.status).toBe(200);
      expect((await loaded.text()).length).toBeGreaterThan(50);
    }
    const init = await (await fetch(`${api.url}/docs/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
  });
});
