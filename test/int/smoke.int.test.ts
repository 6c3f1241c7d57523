import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../lib/domain/roles';
import { runSmoke, scenarios } from '../../scripts/smoke';
import { useApi } from '../support/api';

/** The smoke test against the local server (the code `npm start` runs), as a user in every group. */
const api = useApi({ live: true });
let token = '';

beforeAll(async () => {
  token = await api.tokenFor('smoke', ...roles);
});

describe('npm run smoke', () => {
  it('passes every seed scenario, each through the typed client held to the document', async () => {
    const results = await runSmoke(api.client(token), { liveUrl: api.liveUrl, token });

    expect(results.map((result) => [result.name, result.ok, result.ok ? '' : result.detail])).toEqual(
      scenarios.map((scenario) => [scenario.name, true, '']),
    );
  });

  it('runs from the command line with --url and --token, reports each scenario and exits 0', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/smoke.ts', '--url', api.url, '--token', token],
      { cwd: root, encoding: 'utf8' },
    );

    const reported = [...stdout.matchAll(/^(PASS|FAIL) {2}(.+)$/gm)].map((line) => [line[1], line[2]]);
    expect(reported).toEqual(scenarios.map((scenario) => ['PASS', scenario.name]));
    expect(stdout).toContain(
      `${scenarios.length} of ${scenarios.length} scenarios passed against ${api.url}`,
    );
  });

  it('refuses to run without a URL and a token, saying how', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const { API_URL: _url, API_TOKEN: _token, ...env } = process.env;

    const failure = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/smoke.ts'], {
      cwd: root,
      encoding: 'utf8',
      env,
    }).catch((error: { code: number; stderr: string }) => error);

    expect(failure).toMatchObject({
      code: 2,
      stderr: 'Usage: npm run smoke -- --url <base URL> --token <JWT>   (or API_URL and API_TOKEN)\n',
    });
  });
});
