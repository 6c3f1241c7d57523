import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { functionNames } from '../lib/routes';
import { type BenchTable, median } from './measure';
import type { BenchSize } from './size';

/**
 * The esbuild settings the stack builds every function with (cdk/functions.ts `bundlingOptions`,
 * NodejsFunction's names for esbuild's options), so what is measured is what deploys.
 */
const stackSettings = async (): Promise<{ esbuild: BuildOptions; sourceMaps: boolean }> => {
  // Loaded only here: the stack's module brings aws-cdk-lib with it.
  const { bundlingOptions: options } = await import('../cdk/functions');
  return {
    esbuild: {
      bundle: true,
      platform: 'node',
      format: options.format,
      target: options.target,
      mainFields: [...options.mainFields],
      banner: { js: options.banner },
      minify: options.minify,
      sourcemap: options.sourceMap,
      external: [...options.externalModules],
      logLevel: options.logLevel,
    },
    sourceMaps: options.sourceMap,
  };
};

/** What the config and the logger read at load, as the stack sets it. */
const lambdaEnv = {
  ...process.env,
  TABLE_NAME: 'bench',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'bench',
};

/** Imports the bundle in a fresh node process and answers how long the import took, in ms. */
const coldImport = (file: string, sourceMaps: boolean): number => {
  const script =
    'const start = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - start));';
  const child = spawnSync(
    process.execPath,
    [
      ...(sourceMaps ? ['--enable-source-maps'] : []),
      '--input-type=module',
      '-e',
      script,
      pathToFileURL(file).href,
    ],
    { env: lambdaEnv, encoding: 'utf8' },
  );
  const ms = Number(child.stdout);
  if (child.status !== 0 || !Number.isFinite(ms))
    throw new Error(`Importing ${file} failed: ${child.stderr}`);
  return ms;
};

interface Bundle {
  name: string;
  entry: string;
  control?: boolean;
}

export interface BundleMeasure {
  name: string;
  control: boolean;
  raw: number;
  gzip: number;
  /** Exact ratios to the baseline (raw and gzip size, median cold import). */
  rawRatio: number;
  gzipRatio: number;
  importRatio: number;
}

export interface BundleMeasures {
  bundles: BundleMeasure[];
  /** The baseline's median cold import, in ms. */
  baseImport: number;
  coldImports: number;
  sourceMaps: boolean;
}

/**
 * Each function's bundle, built as the stack builds it: raw and gzip size, and the cold
 * import time (median of fresh processes, the bundles alternating), as exact ratios to a
 * baseline bundle that only does one GetCommand.
 */
export const measureBundles = async (coldImports: number): Promise<BundleMeasures> => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const bundles: Bundle[] = [
    { name: 'baseline (one `GetCommand`)', entry: join(root, 'bench/entries/baseline.ts') },
    ...functionNames.map((name) => ({ name, entry: join(root, 'functions', `${name}.ts`) })),
    { name: 'baseline again (control)', entry: join(root, 'bench/entries/baseline.ts'), control: true },
  ];
  const out = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  try {
    // One esbuild run for every entry (each its own bundle, as `splitting` is off): the
    // sources are parsed once. The control imports the baseline's very file again.
    const entries = bundles.filter((bundle) => !bundle.control);
    const settings = await stackSettings();
    await build({
      ...settings.esbuild,
      entryPoints: entries.map((bundle, index) => ({ in: bundle.entry, out: `${index}/index` })),
      outdir: out,
      outExtension: { '.js': '.mjs' },
    });
    const built = bundles.map((bundle) => {
      const outfile = join(
        out,
        String(entries.indexOf(bundle.control ? (entries[0] as Bundle) : bundle)),
        'index.mjs',
      );
      const bytes = readFileSync(outfile);
      return {
        bundle,
        outfile,
        raw: bytes.byteLength,
        gzip: gzipSync(bytes).byteLength,
        imports: [] as number[],
      };
    });
    for (let round = 0; round < coldImports; round++)
      for (let offset = 0; offset < built.length; offset++) {
        const entry = built[(round + offset) % built.length] as (typeof built)[number];
        entry.imports.push(coldImport(entry.outfile, settings.sourceMaps));
      }
    const [base] = built as [(typeof built)[number]];
    const baseImport = median(base.imports);
    return {
      bundles: built.map((entry) => ({
        name: entry.bundle.name,
        control: entry.bundle.control ?? false,
        raw: entry.raw,
        gzip: entry.gzip,
        rawRatio: entry.raw / base.raw,
        gzipRatio: entry.gzip / base.gzip,
        importRatio: median(entry.imports) / baseImport,
      })),
      baseImport,
      coldImports,
      sourceMaps: settings.sourceMaps,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
};

/** 5. The bundle measures as the bench prints them. */
export const bundlesTableOf = (measures: BundleMeasures): BenchTable => {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  const times = (value: number, digits: number) => `${value.toFixed(digits)}×`;
  return {
    id: 'bundles',
    title: '5. Lambda artifacts: bundle size and cold import vs a one-`GetCommand` baseline',
    headers: ['bundle', 'raw', 'gzip', 'raw vs baseline', 'gzip vs baseline', 'cold import vs baseline'],
    rows: measures.bundles.map((entry) => ({
      // Sizes are exact, so three digits; a median of times says no more than two.
      cells: [
        entry.name,
        kb(entry.raw),
        kb(entry.gzip),
        times(entry.rawRatio, 3),
        times(entry.gzipRatio, 3),
        times(entry.importRatio, 2),
      ],
      ...(entry.control ? { control: true } : {}),
    })),
    notes: [
      `Baseline cold import: ${measures.baseImport.toFixed(0)} ms (median of ${measures.coldImports} fresh node processes, the bundles alternating). Built with the stack's \`bundlingOptions\` (cdk/functions.ts)${measures.sourceMaps ? '; sizes without the source map' : ''}.`,
    ],
  };
};

export const bundlesTable = async (size: BenchSize): Promise<BenchTable> =>
  bundlesTableOf(await measureBundles(size.coldImports));
