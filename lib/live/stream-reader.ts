import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { type ChangeRecord, fromStreamsRecord } from './events';

/**
 * Reads a DynamoDB Local table's stream the way Lambda reads the deployed one: shard by
 * shard, in order, each batch handed on (and finished) before the next is asked for; a
 * closed shard's children are read from their start. It starts at the stream's end (what
 * happened before the server started was read by nobody, and clients read afresh when they
 * connect). Locally only: in AWS the consumer is a Lambda function on the stream.
 */
export interface StreamReader {
  /** Resolves once the reader stands at the stream's end: every change from now on is read. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export interface StreamReaderOptions {
  endpoint: string;
  tableName: string;
  onRecords: (records: ChangeRecord[]) => Promise<void>;
  /** How long to wait before asking again when no shard had anything new (ms). */
  idleMs?: number;
}

const local = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const pause = (ms: number) => new Promise((resume) => setTimeout(resume, ms));

/**
 * A record as a change, or none. One that cannot be read (say, a number JavaScript cannot
 * hold, written outside the API) would be read again forever and stop every change after
 * it: it is left out, and said on stderr. In AWS the consumer's failure queue keeps it.
 */
const readable = (record: Parameters<typeof fromStreamsRecord>[0]): ChangeRecord[] => {
  try {
    const change = fromStreamsRecord(record);
    return change ? [change] : [];
  } catch (error) {
    console.error(
      JSON.stringify({
        message: 'A stream record that cannot be read was left out',
        sequenceNumber: (record.dynamodb as { SequenceNumber?: string } | undefined)?.SequenceNumber,
        error: String(error),
      }),
    );
    return [];
  }
};

export const readStream = (options: StreamReaderOptions): StreamReader => {
  const idleMs = options.idleMs ?? 50;
  const streams = new DynamoDBStreamsClient(local(options.endpoint));
  let stopped = false;
  /** Open shards being read: their next iterator, and the last sequence number handed on. */
  const reading = new Map<string, { iterator: string; last?: string }>();
  const finished = new Set<string>();
  let streamArn = '';

  const iteratorOf = async (shardId: string, type: ShardIteratorType, after?: string) =>
    (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : type,
          ...(after ? { SequenceNumber: after } : {}),
        }),
      )
    ).ShardIterator;

  const shards = async (): Promise<Shard[]> => {
    const found: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await streams.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ...(start ? { ExclusiveStartShardId: start } : {}),
        }),
      );
      found.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return found;
  };

  /** Shards not read yet: at start the open ones from their end; later a closed one's children from their start. */
  const discover = async (type: ShardIteratorType): Promise<void> => {
    for (const shard of await shards()) {
      const id = shard.ShardId ?? '';
      if (!id || reading.has(id) || finished.has(id)) continue;
      if (type === 'LATEST' && shard.SequenceNumberRange?.EndingSequenceNumber) {
        finished.add(id);
        continue;
      }
      const iterator = await iteratorOf(id, type);
      if (iterator) reading.set(id, { iterator });
    }
  };

  const ready = (async () => {
    const tables = new DynamoDBClient(local(options.endpoint));
    try {
      const { Table } = await tables.send(new DescribeTableCommand({ TableName: options.tableName }));
      streamArn = Table?.LatestStreamArn ?? '';
    } finally {
      tables.destroy();
    }
    if (!streamArn) throw new Error(`The table ${options.tableName} has no stream.`);
    await discover('LATEST');
  })();

  const loop = (async () => {
    await ready.catch(() => undefined);
    while (!stopped && streamArn) {
      let any = false;
      try {
        for (const [shardId, shard] of [...reading]) {
          if (stopped) break;
          let answer: GetRecordsCommandOutput;
          try {
            answer = await streams.send(
              new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }),
            );
          } catch (error) {
            if (!(error instanceof ExpiredIteratorException)) throw error;
            const iterator = await iteratorOf(shardId, 'LATEST', shard.last);
            if (iterator) reading.set(shardId, { ...shard, iterator });
            continue;
          }
          const records = (answer.Records ?? []).flatMap((record) => readable(record));
          const last = answer.Records?.at(-1)?.dynamodb?.SequenceNumber ?? shard.last;
          if (records.length > 0) {
            any = true;
            await options.onRecords(records);
          }
          if (answer.NextShardIterator) reading.set(shardId, { iterator: answer.NextShardIterator, last });
          else {
            reading.delete(shardId);
            finished.add(shardId);
            await discover('TRIM_HORIZON');
          }
        }
      } catch {
        // DynamoDB Local restarting or stopping: try again shortly.
        if (!stopped) await pause(1000);
        continue;
      }
      if (!any && !stopped) await pause(idleMs);
    }
  })();

  return {
    ready,
    stop: async () => {
      stopped = true;
      await loop;
      streams.destroy();
    },
  };
};
