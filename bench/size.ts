/** One measurement: alternating rounds of calls after warm-up calls. */
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
