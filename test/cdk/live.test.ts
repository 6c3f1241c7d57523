import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { liveAccessLogFields, liveThrottle } from '../../cdk/live';
import { tableSpec } from '../../lib/db/table-spec';
import {
  connectionsTableSpec,
  type LiveFunctionName,
  liveTableAccess,
} from '../../lib/live/connections-spec';
import { recordTypes, resources } from '../../lib/live/protocol';
import { variant } from './fixtures';

/**
 * The live channel in the template: the table's stream, its consumer and how it fails, the
 * WebSocket API with its authorizer, the connections table, each function's permissions
 * (nothing beyond what it declares), and the alarms on the consumer. cdk-nag runs over the
 * whole stack in test/cdk/stack.test.ts.
 */
interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}
interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Effect: string;
}

const webBuild = mkdtempSync(join(tmpdir(), 'web-build-'));
writeFileSync(join(webBuild, 'index.html'), '<!doctype html><title>test</title>');
afterAll(() => rmSync(webBuild, { recursive: true, force: true }));

const { stack, template } = variant({ webAppDir: webBuild }, 'LiveStack');
const external = variant(
  { webAppDir: webBuild, identity: { issuer: 'https://issuer.test.invalid/', audience: 'live-audience' } },
  'ExternalLiveStack',
);
const all = (of: Template = template) => of.toJSON().Resources as Record<string, Resource>;
const ofType = (type: string, of: Template = template) =>
  Object.entries(all(of)).filter(([, resource]) => resource.Type === type);
const only = (type: string, where: (resource: Resource) => boolean = () => true): [string, Resource] => {
  const found = ofType(type).filter(([, resource]) => where(resource));
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
};
const idOf = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as never);
const fnOf = (name: LiveFunctionName) =>
  stack.live.functions.get(name) as NonNullable<ReturnType<typeof stack.live.functions.get>>;
const ref = (construct: IConstruct) => ({ Ref: idOf(construct) });
const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [idOf(construct), 'Arn'] });

/** Every statement the role of a live function is granted, actions sorted. */
const statementsOf = (name: LiveFunctionName): Statement[] =>
  ofType('AWS::IAM::Policy')
    .filter(
      ([, policy]) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([ref(fnOf(name).role)]),
    )
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .map((statement) => ({
      ...statement,
      Action: typeof statement.Action === 'string' ? statement.Action : [...statement.Action].sort(),
    }));

const connectionsArn = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':execute-api:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':',
      { Ref: idOf(stack.live.api) },
      '/live/*/@connections/*',
    ],
  ],
};
const logsAndTraces = (name: LiveFunctionName): Statement[] => [
  {
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Effect: 'Allow',
    Resource: arnOf(fnOf(name).logGroup),
  },
  { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
];

describe('the change feed', () => {
  it('is the data table’s stream, with the item before and after each change', () => {
    const [, table] = only('AWS::DynamoDB::GlobalTable');

    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(tableSpec.stream).toBe('NEW_AND_OLD_IMAGES');
  });

  it('is read by the consumer from its end, in batches whose failed records are reported, bisected on error, retried, then sent to the failure queue; key records never reach it', () => {
    const [, mapping] = only('AWS::Lambda::EventSourceMapping');

    expect(mapping.Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [idOf(stack.table), 'StreamArn'] },
      FunctionName: ref(fnOf('live-stream').fn),
      StartingPosition: 'LATEST',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: arnOf(stack.live.failed) } },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              dynamodb: {
                Keys: { pk: { S: resources.map((resource) => ({ prefix: `${recordTypes[resource]}#` })) } },
              },
            }),
          },
        ],
      },
    });
  });

  it('keeps what it gave up on for 14 days, encrypted, reachable over TLS only', () => {
    const [, queue] = only('AWS::SQS::Queue');
    const [, policy] = only('AWS::SQS::QueuePolicy');

    expect(queue.Properties).toEqual({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    expect(policy.Properties.PolicyDocument).toMatchObject({
      Statement: [
        { Action: 'sqs:*', Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ],
    });
  });
});

describe('the WebSocket API', () => {
  const [apiId, api] = only(
    'AWS::ApiGatewayV2::Api',
    (resource) => resource.Properties.ProtocolType === 'WEBSOCKET',
  );
  const routes = Object.fromEntries(
    ofType('AWS::ApiGatewayV2::Route')
      .filter(([, route]) => JSON.stringify(route.Properties.ApiId) === JSON.stringify({ Ref: apiId }))
      .map(([, route]) => [String(route.Properties.RouteKey), route.Properties]),
  ) as Record<string, Record<string, unknown>>;
  const integrationOf = (route: Record<string, unknown>) =>
    all()[String((route.Target as { 'Fn::Join': [string, [string, { Ref: string }]] })['Fn::Join'][1][1].Ref)]
      ?.Properties;

  it('routes $connect through the Lambda authorizer, with the token from the query string, then to the socket function', () => {
    const [authorizerId, authorizer] = only(
      'AWS::ApiGatewayV2::Authorizer',
      (resource) => resource.Properties.AuthorizerType === 'REQUEST',
    );

    expect([api.Properties.Name, Object.keys(routes).sort()]).toEqual([
      'LiveStack-live',
      ['$connect', '$default', '$disconnect'],
    ]);
    expect(routes.$connect).toMatchObject({
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
    expect(authorizer.Properties).toMatchObject({
      ApiId: { Ref: apiId },
      IdentitySource: ['route.request.querystring.token'],
    });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(
      JSON.stringify(arnOf(fnOf('live-authorizer').fn)),
    );
  });

  it('sends $connect, $disconnect and every message to the socket function', () => {
    for (const route of Object.values(routes))
      expect(JSON.stringify(integrationOf(route)?.IntegrationUri)).toContain(
        JSON.stringify(arnOf(fnOf('live-socket').fn)),
      );
  });

  it('has one throttled stage, `live`, writing a JSON access log line per event', () => {
    const [, stage] = only(
      'AWS::ApiGatewayV2::Stage',
      (resource) => resource.Properties.StageName === 'live',
    );

    expect(stage.Properties).toMatchObject({
      ApiId: { Ref: apiId },
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: liveThrottle.rateLimit,
        ThrottlingBurstLimit: liveThrottle.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: arnOf(stack.live.accessLogs),
        Format: JSON.stringify(liveAccessLogFields),
      },
    });
  });

  it('is the LiveUrl output, and the web app’s config.json is made with it', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [, deployment] = only('Custom::CDKBucketDeployment');

    expect(JSON.stringify(outputs.LiveUrl?.Value)).toContain(`{"Ref":"${apiId}"}`);
    expect(JSON.stringify(deployment.Properties.SourceMarkers)).toContain(`{"Ref":"${apiId}"}`);
  });
});

describe('the connections table', () => {
  it('has the keys of its spec, expires by its TTL attribute, bills on demand, and goes with the stack', () => {
    const [, table] = only('AWS::DynamoDB::Table');

    expect(table.Properties).toEqual({
      KeySchema: [
        { AttributeName: connectionsTableSpec.partitionKey, KeyType: 'HASH' },
        { AttributeName: connectionsTableSpec.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: connectionsTableSpec.partitionKey, AttributeType: 'S' },
        { AttributeName: connectionsTableSpec.sortKey, AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: connectionsTableSpec.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table.DeletionPolicy).toBe('Delete');
  });
});

describe('least privilege', () => {
  const connectionsTable = arnOf(stack.live.connections);

  it('the authorizer may log and trace, nothing else, and trusts the API’s issuer and audience', () => {
    const [, fn] = only('AWS::Lambda::Function', (resource) =>
      JSON.stringify(resource.Properties).includes('JWT_ISSUER'),
    );
    const pool = stack.userPool as IConstruct;
    const client = stack.userPoolClient as IConstruct;

    expect(statementsOf('live-authorizer')).toEqual(logsAndTraces('live-authorizer'));
    expect(fn.Properties.Environment).toMatchObject({
      Variables: { JWT_ISSUER: { 'Fn::GetAtt': [idOf(pool), 'ProviderURL'] }, JWT_AUDIENCE: ref(client) },
    });
    const [, externalFn] = ofType('AWS::Lambda::Function', external.template).filter(([, resource]) =>
      JSON.stringify(resource.Properties).includes('JWT_ISSUER'),
    )[0] as [string, Resource];
    expect(externalFn.Properties.Environment).toMatchObject({
      Variables: { JWT_ISSUER: 'https://issuer.test.invalid/', JWT_AUDIENCE: 'live-audience' },
    });
  });

  it('the socket function: its declared actions on the connections table, and posting to this stage’s connections', () => {
    expect(statementsOf('live-socket')).toEqual([
      ...logsAndTraces('live-socket'),
      { Action: [...liveTableAccess['live-socket']], Effect: 'Allow', Resource: connectionsTable },
      { Action: 'execute-api:ManageConnections', Effect: 'Allow', Resource: connectionsArn },
    ]);
  });

  it('the consumer: its declared actions on the connections table, posting to connections, its failure queue, and the table’s stream, never the table', () => {
    expect(statementsOf('live-stream')).toEqual([
      ...logsAndTraces('live-stream'),
      { Action: [...liveTableAccess['live-stream']], Effect: 'Allow', Resource: connectionsTable },
      { Action: 'execute-api:ManageConnections', Effect: 'Allow', Resource: connectionsArn },
      {
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Effect: 'Allow',
        Resource: arnOf(stack.live.failed),
      },
      {
        Action: [
          'dynamodb:DescribeStream',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
          'dynamodb:ListStreams',
        ],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [idOf(stack.table), 'StreamArn'] },
      },
    ]);
  });
});

describe('alarms on the consumer', () => {
  const alarms = Object.fromEntries(
    ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => [
      String(alarm.Properties.AlarmName),
      alarm.Properties,
    ]),
  );

  it('when it is more than a minute behind the stream, when it fails, and when it gave up on a change', () => {
    const metricOf = (name: string) => {
      const alarm = alarms[`LiveStack-${name}`] as {
        Metrics: { MetricStat: { Metric: unknown; Stat: string } }[];
      };
      return { ...alarm, Metrics: undefined, metric: alarm.Metrics[0]?.MetricStat };
    };
    const consumer = [{ Name: 'FunctionName', Value: ref(fnOf('live-stream').fn) }];

    expect([
      metricOf('LiveStreamIteratorAge'),
      metricOf('LiveStreamErrors'),
      metricOf('LiveFailedChanges'),
    ]).toEqual([
      expect.objectContaining({
        Threshold: 60_000,
        ComparisonOperator: 'GreaterThanThreshold',
        metric: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: 'IteratorAge', Dimensions: consumer },
          Period: 300,
          Stat: 'Maximum',
        },
      }),
      expect.objectContaining({
        Threshold: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        metric: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: consumer },
          Period: 300,
          Stat: 'Sum',
        },
      }),
      expect.objectContaining({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        metric: {
          Metric: {
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [
              { Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack.live.failed), 'QueueName'] } },
            ],
          },
          Period: 300,
          Stat: 'Maximum',
        },
      }),
    ]);
  });
});
