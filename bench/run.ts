import { cpus } from 'node:os';
import { bundlesTable } from './bundles';
import { conflictTable } from './conflict';
import { type ContentionResult, contentionTable } from './contention';
import { keyedTable } from './keyed';
import { type BenchTable, markdown } from './measure';
import { overheadTable } from './overhead';
import { roundTripsTable } from './round-trips';
import { startServer } from './server';
import type { BenchSize } from './size';

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
