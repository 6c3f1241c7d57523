import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useApi } from '../support/api';

/**
 * The walkthroughs (docs/walkthroughs.md) are promises to a newcomer: run as written, one
 * block after the other in one shell (as a reader would paste them), against the local
 * server, each status the text marks with `→ NNN` must be the status curl shows, in that order.
 */
const api = useApi();
const walkthroughs = readFileSync(
  fileURLToPath(new URL('../../docs/walkthroughs.md', import.meta.url)),
  'utf8',
);
const script = [...walkthroughs.matchAll(/```sh\n([\s\S]*?)```/g)].map((block) => block[1]).join('\n');
const promised = [...script.matchAll(/^#.*$/gm)].flatMap((comment) =>
  [...comment[0].matchAll(/→ (\d{3})/g)].map((status) => Number(status[1])),
);

describe('the walkthroughs', () => {
  it('has walkthroughs that promise statuses', () => {
    expect([script.length > 0, promised.length]).toEqual([true, 17]);
  });

  it('run as written and answer every status they promise, in order', async () => {
    // The server runs in this process: the shell must run beside it, not block it.
    const run = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      env: { ...process.env, PORT: new URL(api.url).port },
      encoding: 'utf8',
    });
    // Not anchored to a line start: the two requests a walkthrough sends at once (`&`) may
    // write their answers into one another's lines. Both of a pair promise the same status.
    const shown = [...run.stdout.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((status) => Number(status[1]));
    expect([run.stderr, shown]).toEqual(['', promised]);
  });
});
