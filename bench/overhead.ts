import { marshall } from '@aws-sdk/util-dynamodb';
import { recordRequests } from '../test/support/sdk';
import { alternate, type BenchTable, type Contender, medians, microseconds, ratio } from './measure';
import { type Peer, peers, raw, storedItem } from './peers';
import { consumedCapacity, withStubbedNetwork } from './sdk';
import type { BenchSize } from './size';

const CONTROL = 'raw `UpdateCommand` again (control: raw vs raw)';

interface Subject {
  name: string;
  peer: Peer;
  control?: boolean;
}

const subjects: Subject[] = [
  ...peers.map((peer) => ({ name: peer.name, peer })),
  { name: CONTROL, peer: raw, control: true },
];

/** Each subject on its own record, the version it is at kept here, so every update succeeds. */
const contendersOf = async (forSubjects: readonly Subject[]) =>
  Promise.all(
    forSubjects.map(async (subject) => {
      const id = await subject.peer.create();
      let version = 1;
      const contender: Contender = {
        name: subject.name,
        call: async (i) => {
          version = await subject.peer.update(id, version, `n${i}`);
        },
      };
      return { subject, id, contender };
    }),
  );

/**
 * 1. What a versioned update costs on the success path: per-call median of each way of
 * writing it, as a ratio to the raw `UpdateCommand`, against DynamoDB Local; then with the
 * network stubbed (every request answered at once with the item as stored), which leaves
 * the CPU of the library and the SDK alone.
 */
export const overheadTable = async (size: BenchSize): Promise<BenchTable> => {
  const live = await contendersOf(subjects);
  const requests = new Map<string, number>();
  const units = new Map<string, number>();
  for (const { subject, contender } of live) {
    const { commands } = await recordRequests(() => contender.call(-1));
    requests.set(subject.name, commands.length);
    units.set(subject.name, (await consumedCapacity(() => contender.call(-2))).write);
  }
  const database = medians(
    await alternate(
      live.map((entry) => entry.contender),
      size.overhead,
    ),
  );

  // Stubbed: each subject is answered with its own item as stored, as DynamoDB's JSON.
  const answers = new Map<string, string>();
  for (const { subject, id } of live)
    answers.set(subject.name, JSON.stringify({ Attributes: marshall(await storedItem(subject.peer, id)) }));
  let answering = '';
  const stubbed = await withStubbedNetwork(
    () => answers.get(answering) ?? '{}',
    async () =>
      medians(
        await alternate(
          live.map(({ subject, id }) => ({
            name: subject.name,
            // The stub answers whatever is sent, so the version need not move.
            call: (i) => {
              answering = subject.name;
              return subject.peer.update(id, 1, `s${i}`);
            },
          })),
          size.stubbed,
        ),
      ),
  );

  const rawName = raw.name;
  const base = { database: database.get(rawName) ?? Number.NaN, stubbed: stubbed.get(rawName) ?? Number.NaN };
  return {
    id: 'overhead',
    title: '1. Overhead of a versioned update (success path)',
    headers: [
      'way of writing it',
      'requests',
      'write units',
      'per-call median vs raw',
      'client-side only (network stubbed) vs raw',
    ],
    rows: subjects.map((subject) => ({
      cells: [
        subject.name,
        String(requests.get(subject.name)),
        String(units.get(subject.name)),
        ratio(database.get(subject.name) ?? Number.NaN, base.database),
        ratio(stubbed.get(subject.name) ?? Number.NaN, base.stubbed),
      ],
      ...(subject.control ? { control: true } : {}),
    })),
    notes: [
      `Raw per-call median: ${microseconds(base.database)} against DynamoDB Local, ${microseconds(base.stubbed)} with the network stubbed.`,
      `${size.overhead.rounds} alternating rounds of ${size.overhead.perRound} calls per way (stubbed: ${size.stubbed.rounds} × ${size.stubbed.perRound}), after ${size.overhead.warmup} warm-up calls each; each way on its own record, every record in the listing index (so every way writes the same units).`,
    ],
  };
};
