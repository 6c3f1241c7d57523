/**
 * `npm run bundles [-- --cold-imports N]`: builds every function as the stack does (its
 * `bundlingOptions`) and a baseline that only does one GetCommand with the same settings,
 * and prints each bundle's size and cold import as ratios to the baseline, with the
 * largest of each against the targets (size ≤ 1.3×, cold import ≤ 1.2×). The measuring is
 * the bench's (bench/bundles.ts); this prints its table and the verdict.
 */
import { parseArgs } from 'node:util';
import { bundlesTable } from '../bench/bundles';
import { markdown } from '../bench/measure';
import type { BenchSize } from '../bench/run';

const targets = { size: 1.3, coldImport: 1.2 };

const { values } = parseArgs({ options: { 'cold-imports': { type: 'string', default: '21' } } });
const coldImports = Number(values['cold-imports']);
if (!Number.isInteger(coldImports) || coldImports < 1) {
  console.error(`--cold-imports must be a whole number of at least 1, got '${values['cold-imports']}'`);
  process.exit(2);
}

// Only the bundle table is measured; the other sizes are the bench's business.
const size = { coldImports } as BenchSize;
const table = await bundlesTable(size);
console.log(markdown(table));

const column = (header: string) => table.headers.indexOf(header);
const functionRows = table.rows.filter((row) => !row.control && !row.cells[0]?.startsWith('baseline'));
const worst = (header: string) => {
  const index = column(header);
  const ratios = functionRows.map((row) => ({
    name: row.cells[0],
    ratio: Number(row.cells[index]?.replace('×', '')),
  }));
  return ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
};
const verdict = (label: string, header: string, target: number) => {
  const { name, ratio } = worst(header);
  return `${label}: largest ${ratio.toFixed(2)}× (${name}), target ≤ ${target}× — ${ratio <= target ? 'met' : 'NOT met'}`;
};
console.log('');
console.log(verdict('Bundle size (raw)', 'raw vs baseline', targets.size));
console.log(verdict('Bundle size (gzip)', 'gzip vs baseline', targets.size));
console.log(verdict('Cold import', 'cold import vs baseline', targets.coldImport));
