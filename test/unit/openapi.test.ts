import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/contract/openapi';
import { DOCUMENT_BYTES_LIMIT, documentSizeLine } from '../../lib/contract/size';
import { routeKeyOf, routes } from '../../lib/routes';
import { contractViolations } from '../support/contract';
import { documentFile } from '../support/document';

const root = fileURLToPath(new URL('../..', import.meta.url));
const document = openApiDocument() as { paths: Record<string, Record<string, unknown>> };

describe('the OpenAPI document', () => {
  it('lists exactly the routes of the route table', () => {
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(routes.map(routeKeyOf).sort());
  });

  it('is the file npm run openapi built, to the byte, and its gzip', () => {
    expect(readFileSync(documentFile, 'utf8')).toBe(JSON.stringify(document));
    expect(gunzipSync(readFileSync(`${documentFile}.gz`)).toString('utf8')).toBe(JSON.stringify(document));
  });

  it('is at most a third of the size it had before sharing by $ref, as npm run bundles prints', () => {
    const bytes = readFileSync(documentFile).byteLength;
    const gzip = readFileSync(`${documentFile}.gz`).byteLength;
    expect(bytes).toBeLessThanOrEqual(DOCUMENT_BYTES_LIMIT);
    expect(documentSizeLine(bytes, gzip)).toMatch(/ — met$/);
  });

  it('passes a third-party linter (Redocly, recommended rules) without an error or a warning', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'openapi.json');
    copyFileSync(documentFile, file);
    const lint = spawnSync('npx', ['redocly', 'lint', file, '--config', join(root, 'redocly.yaml')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stdout + lint.stderr).toContain('Your API description is valid.');
    expect(lint.stdout + lint.stderr).not.toMatch(/You have \d+ warnings?/);
  });
});

describe('the contract check every e2e answer goes through', () => {
  const headers = (entries: Record<string, string>) => new Headers(entries);
  const annotation = {
    id: 'a1',
    name: 'n',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'alice',
    updatedAt: '2026-01-01T00:00:00.000Z',
    updatedBy: 'alice',
  };

  it('passes an answer the document declares', () => {
    const answer = {
      status: 200,
      headers: headers({ 'content-type': 'application/json', etag: '"1"' }),
      body: annotation,
    };
    expect(contractViolations('GET', '/annotations/a1', answer)).toEqual([]);
  });

  it('catches a wrong body, a missing header and an undeclared status', () => {
    const wrong = { ...annotation, version: 'one', extra: true };
    expect(
      contractViolations('GET', '/annotations/a1', {
        status: 200,
        headers: headers({ 'content-type': 'application/json' }),
        body: wrong,
      }),
    ).toEqual([
      'GET /annotations/{id} → 200: body does not match: body must NOT have additional properties, body/version must be integer',
      'GET /annotations/{id} → 200: header ETag missing',
    ]);
    expect(
      contractViolations('GET', '/annotations/a1', { status: 418, headers: headers({}), body: undefined }),
    ).toEqual([expect.stringMatching(/^GET \/annotations\/\{id\} → 418: status not declared/)]);
  });
});
