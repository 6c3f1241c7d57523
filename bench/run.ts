import { cpus } from 'node:os';
import { bundlesTable } from './bundles';
import { conflictTable } from './conflict';
import { type ContentionResult, contentionTable } from './contention';
import { keyedTable } from './keyed';
import { type BenchTable, markdown } from './measure';
import { overheadTable } from './overhead';
import { roundTripsTable } from './round-trips';
import { startServer } from './server';

type Rounds = { rounds: number; perRound: number; warmup: number };

/** How much the bench measures: the full run (a few minutes) or the quick one `npm test` runs. */
export interface BenchSize {
  overhead: Rounds;
  stubbed: Rounds;
  conflict: Rounds;
  keyed: Rounds;
  contention: { clients: readonly number[]; increments: number };
  coldImports: number;
}

export const fullSize: BenchSize = {
  overhead: { rounds: 40, perRound: 10, warmup: 30 },
  stubbed: { rounds: 40, perRound: 50, warmup: 200 },
  conflict: { rounds: 20, perRound: 10, warmup: 10 },
  keyed: { rounds: 24, perRound: 10, warmup: 10 },
  contention: { clients: [1, 4, 16, 64], increments: 8 },
  coldImports: 9,
};

/** Small N, C up to 16 (64 takes the helper's full backoff): every table, no figure worth reading. */
export const quickSize: BenchSize = {
  overhead: { rounds: 2, perRound: 3, warmup: 1 },
  stubbed: { rounds: 2, perRound: 3, warmup: 1 },
  conflict: { rounds: 2, perRound: 2, warmup: 1 },
  keyed: { rounds: 2, perRound: 2, warmup: 1 },
  contention: { clients: [1, 4, 16], increments: 1 },
  coldImports: 1,
};

export interface BenchResult {
  tables: BenchTable[];
  contention: ContentionResult[];
}

/**
 * Runs every table against the DynamoDB and table the environment names (the config is read
 * when lib/config.ts loads, so the caller sets it before importing this), the local server
 * in this process; `progress` hears each table as it is done.
 */
export const runBench = async (
  size: BenchSize,
  progress: (table: BenchTable) => void = () => undefined,
): Promise<BenchResult> => {
  const tables: BenchTable[] = [];
  const done = (table: BenchTable) => {
    tables.push(table);
    progress(table);
  };
  done(await overheadTable(size));
  done(await conflictTable(size));
  done(await keyedTable(size));
  const server = await startServer();
  let contention: ContentionResult[];
  try {
    const measured = await contentionTable(server, size);
    contention = measured.results;
    done(measured.table);
    done(await bundlesTable(size));
    done(await roundTripsTable(server));
  } finally {
    await server.close();
  }
  return { tables, contention };
};

export const machine = (): string => {
  const [cpu] = cpus();
  return `${cpus().length} cores (${cpu?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${process.platform}/${process.arch}`;
};

export { markdown };
