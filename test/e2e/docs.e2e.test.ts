import { describe, expect, it } from 'vitest';
import { useApi } from '../support/api';

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
