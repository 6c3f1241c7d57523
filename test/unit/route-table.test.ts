import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../lib/http/handler';
import { annotationRoutes, functionNames, matchRoute, routeKeyOf, routes } from '../../lib/routes';

describe('route table', () => {
  it('names a handler file for every function', () => {
    const missing = functionNames.filter(
      (fn) => !existsSync(new URL(`../../functions/${fn}.ts`, import.meta.url)),
    );
    expect(missing).toEqual([]);
  });

  it('declares every route once', () => {
    const keys = routes.map(routeKeyOf);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('refuses a handler whose actions do not match the table', () => {
    expect(() =>
      createHandler(annotationRoutes, { 'GET /annotations': async () => ({ statusCode: 200, headers: {} }) }),
    ).toThrow(/missing POST \/annotations/);
  });

  it('leaves only GET /health and GET /openapi.json public', () => {
    expect(routes.filter((route) => route.access === 'public').map(routeKeyOf)).toEqual([
      'GET /health',
      'GET /openapi.json',
    ]);
  });
});

describe('matchRoute: a request to its route, as API Gateway with an ANY route beside every path', () => {
  it('takes the most specific path first, then the method: batch is never an id', () => {
    expect(
      ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'].map((method) => {
        const matched = matchRoute(method, '/annotations/batch');
        return matched && 'route' in matched ? routeKeyOf(matched.route) : matched;
      }),
    ).toEqual([
      'POST /annotations/batch',
      { path: '/annotations/batch', allowed: ['POST'] },
      { path: '/annotations/batch', allowed: ['POST'] },
      { path: '/annotations/batch', allowed: ['POST'] },
      { path: '/annotations/batch', allowed: ['POST'] },
    ]);
  });

  it('hands on parameters as sent, and matches no path the table has not', () => {
    const matched = matchRoute('PATCH', '/orders/o%2D1/lines/..');
    expect(matched && 'route' in matched ? [routeKeyOf(matched.route), matched.parameters] : matched).toEqual(
      ['PATCH /orders/{id}/lines/{lineId}', { id: 'o%2D1', lineId: '..' }],
    );
    expect(
      ['/', '/annotations/', '//annotations', '/%61nnotations', '/annotations/x/lock/y'].map((path) =>
        matchRoute('GET', path),
      ),
    ).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(matchRoute('DELETE', '/annotations')).toEqual({ path: '/annotations', allowed: ['GET', 'POST'] });
  });
});
