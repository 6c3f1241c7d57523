import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { tableSpec } from '../lib/db/table-spec';
import {
  connectionsTableSpec,
  type LiveFunctionName,
  liveFunctionNames,
  liveTableAccess,
} from '../lib/live/connections-spec';
import { recordTypes, resources } from '../lib/live/protocol';
import { acknowledge, arnPartOf, logGroupName, pascalCase, regionUniqueName } from './common';
import { AppFunction, logRetention } from './functions';

/** Steady messages per second and the burst above it, for the whole WebSocket stage. */
export const liveThrottle = { rateLimit: 50, burstLimit: 100 } as const;

/** The JSON line API Gateway writes per connection event and message of the live channel. */
export const liveAccessLogFields = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  eventType: '$context.eventType',
  connectionId: '$context.connectionId',
  status: '$context.status',
  caller: '$context.authorizer.principalId',
  sourceIp: '$context.identity.sourceIp',
  error: '$context.error.message',
  authorizerError: '$context.authorizer.error',
  integrationError: '$context.integrationErrorMessage',
} as const;

export interface LiveChannelProps {
  /** The data table; its stream (new and old images) is what the consumer reads. */
  readonly table: dynamodb.ITableV2;
  /** The JWT issuer and audience the API trusts: the `$connect` authorizer trusts the same. */
  readonly issuer: string;
  readonly audience: string;
}

/**
 * The live channel in AWS (docs/live.md): the table's stream read by one consumer function,
 * which pushes each change through an API Gateway WebSocket API to the connections
 * subscribed to its record or list; a Lambda authorizer on `$connect` that takes the API's
 * own tokens; the connections, subscriptions and presence in a table of their own, expiring
 * by TTL. The consumer reports batch item failures, bisects a failing batch, and hands what
 * keeps failing to a queue (an alarm watches it); each function may do exactly what it
 * declares (lib/live/connections-spec.ts).
 */
export class LiveChannel extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly connections: dynamodb.Table;
  /** Stream batches the consumer gave up on (their shard, sequence numbers and the error). */
  readonly failed: sqs.Queue;
  readonly functions: ReadonlyMap<LiveFunctionName, AppFunction>;
  readonly accessLogs: logs.LogGroup;
  /** `wss://…/live`: where browsers connect (with `?token=`). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: LiveChannelProps) {
    super(scope, id);
    // A plain regional table (not a global table like the data's): it holds who is connected
    // now, nothing that outlives a connection by much, or the stack.
    this.connections = new dynamodb.Table(this, 'Connections', {
      partitionKey: { name: connectionsTableSpec.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: connectionsTableSpec.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: connectionsTableSpec.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const functions = new Map<LiveFunctionName, AppFunction>();
    for (const name of liveFunctionNames) {
      const created = new AppFunction(this, pascalCase(name), { name, environment: {} });
      const actions = liveTableAccess[name];
      if (actions.length > 0) {
        created.role.addToPolicy(
          new iam.PolicyStatement({ actions: [...actions], resources: [this.connections.tableArn] }),
        );
        created.fn.addEnvironment('CONNECTIONS_TABLE', this.connections.tableName);
      }
      functions.set(name, created);
    }
    this.functions = functions;
    const fn = (name: LiveFunctionName) => (functions.get(name) as AppFunction).fn;
    fn('live-authorizer').addEnvironment('JWT_ISSUER', props.issuer);
    fn('live-authorizer').addEnvironment('JWT_AUDIENCE', props.audience);

    const routeTo = (route: string) =>
      new WebSocketLambdaIntegration(`${route}Integration`, fn('live-socket'));
    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: regionUniqueName(this, 'live'),
      description: 'No Lost Updates live channel: changes, locks and presence pushed to open pages',
      connectRouteOptions: {
        integration: routeTo('Connect'),
        // Browsers cannot set headers on a WebSocket: the token comes in the query string.
        authorizer: new WebSocketLambdaAuthorizer('Authorizer', fn('live-authorizer'), {
          identitySource: ['route.request.querystring.token'],
        }),
      },
      disconnectRouteOptions: { integration: routeTo('Disconnect') },
      defaultRouteOptions: { integration: routeTo('Default') },
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: logGroupName(this, 'live-access'),
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: 'live',
      autoDeploy: true,
      throttle: liveThrottle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(liveAccessLogFields)),
      },
    });
    this.url = this.stage.url;
    const stack = Stack.of(this);
    const connectionsArn = `arn:${arnPartOf(stack.partition, 'Partition')}:execute-api:${arnPartOf(stack.region, 'Region')}:${arnPartOf(stack.account, 'AccountId')}:<${stack.getLogicalId(this.api.node.defaultChild as apigwv2.CfnApi)}>/live/*/@connections/*`;
    for (const name of ['live-socket', 'live-stream'] as const) {
      this.stage.grantManagementApiAccess(fn(name));
      fn(name).addEnvironment('LIVE_ENDPOINT', this.stage.callbackUrl);
      acknowledge(functions.get(name) as AppFunction, {
        id: `AwsSolutions-IAM5[Resource::${connectionsArn}]`,
        reason:
          'A connection’s id is known only when it connects: the function may post to any of this stage’s connections, of this API only.',
      });
    }
    for (const route of ['$disconnect', '$default']) {
      const created = this.api.node.tryFindChild(`${route}-Route`);
      if (created)
        acknowledge(created, {
          id: 'AwsSolutions-APIG4',
          reason: `A WebSocket API authorizes at $connect only; ${route} runs on a connection the authorizer let in, as the user it let in.`,
        });
    }

    // The consumer: every change of a record's items (not key records), in order, once.
    this.failed = new sqs.Queue(this, 'FailedChanges', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.failed, {
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the failure destination of the stream consumer; nothing reads it but an operator.',
    });
    const consumer = fn('live-stream');
    consumer.addEnvironment('TABLE_NAME', props.table.tableName);
    consumer.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 5,
        // An event is worth pushing while someone may still be looking; older, clients have read afresh.
        maxRecordAge: Duration.hours(1),
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.failed),
        filters: [
          lambda.FilterCriteria.filter({
            dynamodb: {
              Keys: {
                [tableSpec.partitionKey]: {
                  S: resources.flatMap((resource) =>
                    lambda.FilterRule.beginsWith(`${recordTypes[resource]}#`),
                  ),
                },
              },
            },
          }),
        ],
      }),
    );
  }
}
