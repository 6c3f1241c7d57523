import type { DynamoDBStreamEvent } from 'aws-lambda';
import { awsChannel, consumeStream } from '../lib/live/aws';

/** The consumer of the table's stream: its changes pushed to the live channel (lib/live/aws.ts). */
export const handler = (event: DynamoDBStreamEvent) => consumeStream(event, awsChannel());
