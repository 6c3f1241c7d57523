import { recordRequests } from '../test/support/sdk';
import { alternate, type BenchTable, medians, microseconds, ratio } from './measure';
import { type ConflictAnswer, conflictAnswers } from './peers';
import type { BenchSize } from './size';

interface Subject {
  name: string;
  answer: ConflictAnswer;
  control?: boolean;
}

/**
 * 2. The conflict path: an update from a stale version, answered with the current item (what
 * a user needs to redo the change). Each way on its own record at version 2, sent version 1
 * again and again; every answer is checked to carry version 2.
 */
export const conflictTable = async (size: BenchSize): Promise<BenchTable> => {
  const [baseline] = conflictAnswers as [ConflictAnswer];
  const subjects: Subject[] = [
    ...conflictAnswers.map((answer) => ({ name: answer.name, answer })),
    { name: `${baseline.name} again (control)`, answer: baseline, control: true },
  ];
  const records = new Map<string, string>();
  for (const subject of subjects) {
    const id = await subject.answer.peer.create();
    await subject.answer.peer.update(id, 1, 'moved on');
    records.set(subject.name, id);
  }
  const stale = async (subject: Subject) => {
    const current = await subject.answer.stale(records.get(subject.name) as string, 1);
    if (current !== 2) throw new Error(`${subject.name} answered version ${current}, not 2.`);
  };
  const requests = new Map<string, number>();
  for (const subject of subjects)
    requests.set(subject.name, (await recordRequests(() => stale(subject))).commands.length);
  const latency = medians(
    await alternate(
      subjects.map((subject) => ({ name: subject.name, call: () => stale(subject) })),
      size.conflict,
    ),
  );
  const base = latency.get(baseline.name) ?? Number.NaN;
  return {
    id: 'conflict',
    title: '2. The conflict path: a stale update answered with the current item',
    headers: ['way of answering it', 'requests', 'per-call median vs raw fail + GetItem'],
    rows: subjects.map((subject) => ({
      cells: [
        subject.name,
        String(requests.get(subject.name)),
        ratio(latency.get(subject.name) ?? Number.NaN, base),
      ],
      ...(subject.control ? { control: true } : {}),
    })),
    notes: [
      `Raw fail + GetItem per-call median: ${microseconds(base)} against DynamoDB Local; ${size.conflict.rounds} alternating rounds of ${size.conflict.perRound} calls per way.`,
    ],
  };
};
