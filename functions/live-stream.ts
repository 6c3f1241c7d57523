import type { DynamoDBStreamEvent } from 'aws-lambda';
import { awsChannel } from '../lib/live/aws';
import { consumeStream } from '../lib/live/consumer';

/** The consumer of the table's stream: its changes pushed to the live channel (lib/live/consumer.ts). */
export const handler = (event: DynamoDBStreamEvent) => consumeStream(event, awsChannel());
