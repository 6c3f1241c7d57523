/**
 * `npm run bundles [-- --cold-imports N]`: builds every function as the stack does (its
 * `bundlingOptions`) and a baseline that only does one GetCommand with the same settings,
 * and prints each bundle's size and cold import as ratios to the baseline, with the
 * largest of each against the targets (size ≤ 1.3×, cold import ≤ 1.2×), and the size of the
 * OpenAPI document as built and served (≤ a third of what it was). The measuring is
 * the bench's (bench/bundles.ts); this prints its table and the verdict.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type BundleMeasure, bundlesTableOf, measureBundles } from '../bench/bundles';
import { markdown } from '../bench/measure';
import { documentSizeLine } from '../lib/contract/size';

const targets = { size: 1.3, coldImport: 1.2 };

const { values } = parseArgs({ options: { 'cold-imports': { type: 'string', default: '21' } } });
const coldImports = Number(values['cold-imports']);
if (!Number.isInteger(coldImports) || coldImports < 1) {
  console.error(`--cold-imports must be a whole number of at least 1, got '${values['cold-imports']}'`);
  process.exit(2);
}

const measures = await measureBundles(coldImports);
console.log(markdown(bundlesTableOf(measures)));

const functions = measures.bundles.filter((bundle) => !bundle.control && !bundle.name.startsWith('baseline'));
// The verdict compares the exact ratios, not the rounded ones the table shows.
const [baseline] = measures.bundles as [BundleMeasure];
const bytes = (value: number) => value.toLocaleString('en-US');
type Ratio = 'rawRatio' | 'gzipRatio' | 'importRatio';
const verdict = (label: string, ratioOf: Ratio, target: number, sizeOf?: 'raw' | 'gzip') => {
  const worst = functions.reduce((a, b) => (b[ratioOf] > a[ratioOf] ? b : a));
  const ratio = worst[ratioOf];
  const exact = sizeOf ? `: ${bytes(worst[sizeOf])} of ${bytes(baseline[sizeOf])} bytes` : '';
  return `${label}: largest ${ratio.toFixed(4)}× (${worst.name}${exact}), target ≤ ${target}× — ${ratio <= target ? 'met' : 'NOT met'}`;
};
console.log('');
console.log(verdict('Bundle size (raw)', 'rawRatio', targets.size, 'raw'));
console.log(verdict('Bundle size (gzip)', 'gzipRatio', targets.size, 'gzip'));
console.log(verdict('Cold import', 'importRatio', targets.coldImport));

// Beside the bundles, the document the health function serves: built afresh, as deployed.
const built = spawnSync('npm', ['run', 'openapi', '--silent'], { stdio: 'ignore' });
if (built.status !== 0) throw new Error('npm run openapi failed');
const document = new URL('../openapi.json', import.meta.url);
console.log(
  documentSizeLine(
    readFileSync(document).byteLength,
    readFileSync(new URL('../openapi.json.gz', import.meta.url)).byteLength,
  ),
);
