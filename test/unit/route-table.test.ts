import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../lib/http/handler';
import { annotationRoutes, functionNames, routeKeyOf, routes } from '../../lib/routes';

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
