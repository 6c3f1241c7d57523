import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Channel } from './channel';
import { eventsOf, fromLambdaRecord } from './events';

/**
 * A batch of the table's stream: its records become events (events.ts), each sent to the
 * connections subscribed to its record or list, in order. An event that cannot be sent
 * reports its record as the batch's first failure, so Lambda sends the batch again from there
 * (bisecting it on errors, and handing what keeps failing to the failure queue); what was
 * delivered before is remembered by sequence number and not sent again.
 */
export const consumeStream = async (
  event: DynamoDBStreamEvent,
  live: Channel,
): Promise<DynamoDBBatchResponse> => {
  const first = event.Records[0]?.dynamodb?.SequenceNumber;
  let events: ReturnType<typeof eventsOf>;
  try {
    events = eventsOf(
      event.Records.flatMap((record) => fromLambdaRecord(record) ?? []),
      new Date().toISOString(),
    );
  } catch {
    return { batchItemFailures: first ? [{ itemIdentifier: first }] : [] };
  }
  for (const change of events) {
    try {
      await live.publish([change]);
    } catch {
      return { batchItemFailures: [{ itemIdentifier: change.seq }] };
    }
  }
  return { batchItemFailures: [] };
};
