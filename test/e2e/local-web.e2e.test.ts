import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useApi } from '../support/api';

const webRoot = mkdtempSync(join(tmpdir(), 'web-root-'));
const built = useApi({ webRoot });
const unbuilt = useApi({ webRoot: join(webRoot, 'missing') });
mkdirSync(join(webRoot, 'assets'));
writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log(1);');
writeFileSync(join(tmpdir(), 'secret.js'), 'secret');

describe('the local server serves the web app', () => {
  it('/ and /assets/* from the build, /config.json for local sign-in', async () => {
    const file = async (path: string) => {
      const answer = await fetch(`${built.url}${path}`);
      return [answer.status, answer.headers.get('content-type'), await answer.text()];
    };
    const config = await built.call('GET', '/config.json');
    expect([await file('/'), await file('/assets/app.js'), [config.status, config.body]]).toEqual([
      [200, 'text/html; charset=utf-8', '<!doctype html><title>app</title>'],
      [200, 'text/javascript; charset=utf-8', 'console.log(1);'],
      [200, { mode: 'local', apiUrl: '' }],
    ]);
  });

  it('nothing outside the build: an escaping path or an unknown file is 404 problem+json', async () => {
    const answers = await Promise.all(
      ['/assets/%2e%2e/%2e%2e/secret.js', '/assets/../../secret.js', '/assets/nope.js'].map((path) =>
        built.call('GET', path),
      ),
    );
    expect(
      answers.map((answer) => [answer.status, answer.headers.get('content-type'), answer.body.code]),
    ).toEqual(Array(3).fill([404, 'application/problem+json', 'NOT_FOUND']));
  });

  it('before the app is built, / says how to build it', async () => {
    const page = await unbuilt.call('GET', '/');
    expect([page.status, page.body.code, page.body.detail]).toEqual([
      404,
      'NOT_FOUND',
      'The web app is not built: run npm run build:web.',
    ]);
  });
});
