import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../lib/domain/roles';
import { httpMethods, pathMethods, routes } from '../../lib/routes';
import { useApi } from '../support/api';
import { rawRequest } from '../support/raw-http';

// A built web app, so a path that fell through to it would answer its HTML.
const webRoot = mkdtempSync(join(tmpdir(), 'web-root-'));
mkdirSync(join(webRoot, 'assets'));
writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
const api = useApi({ webRoot });
let token = '';
beforeAll(async () => {
  token = await api.tokenFor('router', ...roles);
});

const problemOf = (answer: { headers: Record<string, unknown>; body: Buffer }) => ({
  type: answer.headers['content-type'],
  code: JSON.parse(answer.body.toString('utf8')).code,
});

/** Every path of the route table with a method it does not take. */
const notTaken = [...pathMethods()].flatMap(([path, methods]) =>
  httpMethods.filter((method) => !methods.includes(method)).map((method) => ({ method, path, methods })),
);

describe('a method a path does not take', () => {
  it.each(notTaken.map((row) => [`${row.method} ${row.path}`, row] as const))(
    '%s is 405 with Allow, with a token or without',
    async (_name, { method, path, methods }) => {
      const concrete = path.replace(/\{\w+\}/g, 'x1');
      const answers = await Promise.all([
        rawRequest(api.url, method, concrete),
        rawRequest(api.url, method, concrete, { authorization: `Bearer ${token}` }),
      ]);
      for (const answer of answers) {
        expect([answer.status, answer.headers.allow, problemOf(answer)]).toEqual([
          405,
          methods.join(', '),
          { type: 'application/problem+json', code: 'METHOD_NOT_ALLOWED' },
        ]);
      }
    },
  );

  it('/annotations/batch is no annotation: GET, PUT, PATCH and DELETE are 405 with Allow: POST', async () => {
    const answers = await Promise.all(
      ['GET', 'PUT', 'PATCH', 'DELETE'].map((method) =>
        rawRequest(api.url, method, '/annotations/batch', { authorization: `Bearer ${token}` }),
      ),
    );
    expect(answers.map((answer) => [answer.status, answer.headers.allow])).toEqual(
      Array(4).fill([405, 'POST']),
    );
  });

  it('a path the API does not have is 404 problem+json, whatever the method', async () => {
    const answers = await Promise.all(
      httpMethods.map((method) =>
        rawRequest(api.url, method, '/annotation', { authorization: `Bearer ${token}` }),
      ),
    );
    expect(answers.map((answer) => [answer.status, problemOf(answer).code])).toEqual(
      httpMethods.map(() => [404, 'NOT_FOUND']),
    );
  });
});

/** Spellings of a segment that a normalising parser would resolve, or that decode to one. */
const dotted = ['..', '.', '%2e%2e', '%2E%2e', '%2e', '.%2e', '%2f', 'a%2Fb', '%5c..', '%00', '%zz'];

describe('encoded and dotted path segments', () => {
  const cases = routes.flatMap((route) => {
    const segments = route.path.split('/').slice(1);
    return segments.flatMap((_segment, index) =>
      dotted.map((spelling) => {
        const path = `/${segments.map((part, at) => (at === index ? spelling : part.replace(/\{\w+\}/, 'x1'))).join('/')}`;
        return [`${route.method} ${path}`, route.method, path] as const;
      }),
    );
  });

  it.each(cases)('%s answers a JSON problem, never the web app', async (_name, method, path) => {
    const answer = await rawRequest(api.url, method, path, { authorization: `Bearer ${token}` });
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.status >= 400 && answer.status < 500, String(answer.status)).toBe(true);
    expect(answer.body.toString('utf8')).not.toContain('<!doctype html>');
  });

  it.each([
    '/%2e%2e',
    '/annotations/%2e%2e/%2e%2e',
    '/annotations/../..',
    '/%61nnotations',
    '//annotations',
    '/annotations/',
    '/annotations/x1/lock/..',
  ])('GET %s is a 404 problem, not the app', async (path) => {
    const answer = await rawRequest(api.url, 'GET', path, { authorization: `Bearer ${token}` });
    expect([answer.status, problemOf(answer)]).toEqual([
      404,
      { type: 'application/problem+json', code: 'NOT_FOUND' },
    ]);
  });

  it('the app is still served at / and its assets', async () => {
    const page = await rawRequest(api.url, 'GET', '/');
    expect([page.status, page.body.toString('utf8')]).toEqual([200, '<!doctype html><title>app</title>']);
  });
});
