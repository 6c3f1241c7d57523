import { performance } from 'node:perf_hooks';

/** One table of the bench: its rows as printed, the control row marked. */
export interface BenchTable {
  id: 'overhead' | 'conflict' | 'keyed' | 'contention' | 'bundles' | 'round-trips' | 'live';
  title: string;
  headers: string[];
  rows: { cells: string[]; control?: boolean }[];
  /** Lines printed under the table: what the ratios are relative to, absolute baselines. */
  notes: string[];
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

export const ratio = (value: number, base: number, digits = 2): string =>
  Number.isFinite(value / base) ? `${(value / base).toFixed(digits)}×` : '–';

export const markdown = (table: BenchTable): string => {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    `### ${table.title}`,
    '',
    line(table.headers),
    line(table.headers.map(() => '---')),
    ...table.rows.map((row) => line(row.cells)),
    '',
    ...table.notes.map((note) => `${note}  `),
  ].join('\n');
};

/** A contender of a latency comparison: one call per invocation, `i` counting its own calls. */
export interface Contender {
  name: string;
  call: (i: number) => Promise<unknown>;
}

/**
 * Runs the contenders in alternating rounds of `perRound` calls each, the order rotated every
 * round, after `warmup` calls each; answers every call's latency in ms, per contender. Load
 * from elsewhere on the machine then falls on every contender alike, whichever went first.
 */
export const alternate = async (
  contenders: readonly Contender[],
  options: { rounds: number; perRound: number; warmup: number },
): Promise<Map<string, number[]>> => {
  const calls = new Map(contenders.map((contender) => [contender.name, 0]));
  const next = (contender: Contender) => {
    const i = calls.get(contender.name) ?? 0;
    calls.set(contender.name, i + 1);
    return contender.call(i);
  };
  for (let i = 0; i < options.warmup; i++) for (const contender of contenders) await next(contender);
  const latencies = new Map(contenders.map((contender) => [contender.name, [] as number[]]));
  for (let round = 0; round < options.rounds; round++) {
    for (let offset = 0; offset < contenders.length; offset++) {
      const contender = contenders[(round + offset) % contenders.length] as Contender;
      const own = latencies.get(contender.name) as number[];
      for (let i = 0; i < options.perRound; i++) {
        const start = performance.now();
        await next(contender);
        own.push(performance.now() - start);
      }
    }
  }
  return latencies;
};

/** The per-call median of each contender, in ms. */
export const medians = (latencies: Map<string, number[]>): Map<string, number> =>
  new Map([...latencies].map(([name, values]) => [name, median(values)]));

export const microseconds = (ms: number): string => `${Math.round(ms * 1000)} µs`;
