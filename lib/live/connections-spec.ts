import type { TableAction } from '../routes';

/**
 * The live channel's table in AWS, declared once for CDK and for the tests that create it in
 * DynamoDB Local: who is connected (as whom, until when), who is subscribed to what, who has
 * which record open, and which stream records were delivered. Everything in it expires
 * through its TTL attribute; nothing in it is business data.
 */
export const connectionsTableSpec = {
  id: 'LiveConnections',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

/** The functions of the live channel in AWS: each is `functions/<name>.ts`, exporting `handler`. */
export const liveFunctionNames = ['live-authorizer', 'live-socket', 'live-stream'] as const;
export type LiveFunctionName = (typeof liveFunctionNames)[number];

/**
 * What each live function sends to the connections table, declared once: the stack grants
 * exactly this, and a test drives each function's code against DynamoDB Local and holds what
 * it sends to it. None of them touches the data table (the consumer reads only its stream).
 */
export const liveTableAccess: Readonly<Record<LiveFunctionName, readonly TableAction[]>> = {
  'live-authorizer': [],
  'live-socket': [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ],
  'live-stream': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
};
