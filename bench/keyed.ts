import { randomUUID } from 'node:crypto';
import { changeRecord, createRecord } from '../lib/core/features/records/store';
import { recordRequests } from '../test/support/sdk';
import { alternate, type BenchTable, medians, microseconds, ratio } from './measure';
import { benchEntity } from './peers';
import { consumedCapacity } from './sdk';
import type { BenchSize } from './size';

interface Subject {
  name: string;
  keyed: boolean;
  control?: boolean;
}

const subjects: Subject[] = [
  { name: 'keyless change (one conditional `UpdateItem`)', keyed: false },
  { name: 'keyed change (`Idempotency-Key`: read, then one transaction with the key record)', keyed: true },
  { name: 'keyless change again (control)', keyed: false, control: true },
];

/**
 * 3. What an Idempotency-Key costs a change since the exactly-once rework: the requests it
 * sends, its latency as a ratio to the keyless change, and the write and read units
 * DynamoDB reports consumed (ReturnConsumedCapacity: TOTAL).
 */
export const keyedTable = async (size: BenchSize): Promise<BenchTable> => {
  const change = async (subject: Subject, id: string, version: number, i: number) =>
    (
      await changeRecord(
        benchEntity,
        id,
        { kind: 'version', version },
        { set: { name: `k${i}` }, remove: [] },
        {
          actor: 'bench',
          now: new Date(),
          ...(subject.keyed ? { idempotency: { keyHash: randomUUID(), requestHash: randomUUID() } } : {}),
        },
      )
    ).record.version;
  const live = await Promise.all(
    subjects.map(async (subject) => {
      const id = (await createRecord(benchEntity, { name: 'x' }, { actor: 'bench', now: new Date() })).record
        .id;
      let version = 1;
      return {
        subject,
        call: async (i: number) => {
          version = await change(subject, id, version, i);
        },
      };
    }),
  );
  const requests = new Map<string, string[]>();
  const units = new Map<string, { write: number; read: number }>();
  for (const { subject, call } of live) {
    requests.set(subject.name, (await recordRequests(() => call(-1))).commands);
    units.set(subject.name, await consumedCapacity(() => call(-2)));
  }
  const latency = medians(
    await alternate(
      live.map(({ subject, call }) => ({ name: subject.name, call })),
      size.keyed,
    ),
  );
  const [keyless] = subjects as [Subject];
  const base = latency.get(keyless.name) ?? Number.NaN;
  const baseUnits = units.get(keyless.name) ?? { write: Number.NaN, read: Number.NaN };
  return {
    id: 'keyed',
    title: '3. The keyed path: a change with an Idempotency-Key vs without',
    headers: [
      'change',
      'requests',
      'per-call median vs keyless',
      'write units (vs keyless)',
      'read units (vs keyless)',
    ],
    rows: subjects.map((subject) => {
      const commands = requests.get(subject.name) ?? [];
      const consumed = units.get(subject.name) ?? { write: Number.NaN, read: Number.NaN };
      return {
        cells: [
          subject.name,
          `${commands.length}: ${commands.map((command) => command.replace(/Command$/, '')).join(' + ')}`,
          ratio(latency.get(subject.name) ?? Number.NaN, base),
          `${consumed.write} (${ratio(consumed.write, baseUnits.write, 1)})`,
          `${consumed.read} (${baseUnits.read === 0 ? `+${consumed.read}` : ratio(consumed.read, baseUnits.read, 1)})`,
        ],
        ...(subject.control ? { control: true } : {}),
      };
    }),
    notes: [
      `Keyless per-call median: ${microseconds(base)} against DynamoDB Local; ${size.keyed.rounds} alternating rounds of ${size.keyed.perRound} changes per kind.`,
      "Units as DynamoDB Local reports them (ReturnConsumedCapacity: TOTAL) for one change of a small record: the record's write counts once for the table and once for its listing index; in a transaction every write costs twice, and the keyed change also writes the key record.",
    ],
  };
};
