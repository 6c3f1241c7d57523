import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/run';
import { quickSize } from '../../bench/size';

/**
 * `BENCH_QUICK=1 npm run bench` in small: every table is produced with its control row, and
 * the lost updates are what the seeds claim. No timing is asserted: on a shared machine a
 * ratio says nothing a test could hold.
 */
describe('npm run bench, quick', () => {
  it('prints all six tables, each with a control row, counts lost updates only without a version, and bundles no database client into health', async () => {
    const { tables, contention } = await runBench(quickSize);

    expect(tables.map((table) => table.id)).toEqual([
      'overhead',
      'conflict',
      'keyed',
      'contention',
      'bundles',
      'round-trips',
    ]);
    for (const table of tables) {
      expect(table.rows.some((row) => row.control)).toBe(true);
      for (const row of table.rows) expect(row.cells).toHaveLength(table.headers.length);
    }

    // The health function touches no table, so it bundles no database client: it stays
    // below a bundle that does one GetCommand (sizes, not times, so a test can hold them).
    const bundles = tables.find((table) => table.id === 'bundles');
    const rawKb = (name: string) =>
      Number.parseInt(bundles?.rows.find((row) => row.cells[0]?.startsWith(name))?.cells[1] ?? '', 10);
    expect(rawKb('health')).toBeLessThan(rawKb('baseline (one'));

    const lost = (mode: RegExp) =>
      contention
        .filter((result) => mode.test(result.mode))
        .map((result) => ({ clients: result.clients, lost: result.lost }));
    const everyC = quickSize.contention.clients;
    expect([everyC, quickSize.contention.increments]).toEqual([[1, 4, 16], 1]);
    // Without a version, C clients who read at the same moment all write 1: C - 1 are lost.
    expect(lost(/If-Match: \*`$/)).toEqual(everyC.map((clients) => ({ clients, lost: clients - 1 })));
    for (const mode of [/If-Match: <version>/, /deposits/, /postings/]) {
      expect(lost(mode)).toEqual(everyC.map((clients) => ({ clients, lost: 0 })));
    }
  }, 180_000);
});
