import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { App, CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ASSET_RESOURCE_METADATA_ENABLED_CONTEXT } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pascalCase } from '../../cdk/common';
import { identityFromContext } from '../../cdk/context';
import { accessLogFields } from '../../cdk/http-api';
import { NoLostUpdatesStack } from '../../cdk/stack';
import { tableSpec } from '../../lib/db/table-spec';
import { roles } from '../../lib/domain/roles';
import type { ApiEvent } from '../../lib/http/request';
import { liveFunctionNames } from '../../lib/live/connections-spec';
import {
  anyRouteKeyOf,
  type FunctionName,
  functionNames,
  functionTableAccess,
  httpMethods,
  pathMethods,
  type RouteSpec,
  routeKeyOf,
  routes,
} from '../../lib/routes';
import { loadDocument } from '../support/document';
import { apiEvent } from '../support/events';
import { acknowledgementsOf, alarmEmail, cdkContext, deadAcknowledgements, variant } from './fixtures';

const root = fileURLToPath(new URL('../..', import.meta.url));
const jwtIssuer = 'https://issuer.test.invalid/';
const jwtAudience = 'stack-test-audience';

/**
 * Every action of the DynamoDB service authorization reference (written out, not taken
 * from the stack): a name outside it, such as `dynamodb:TransactWriteItems`, grants nothing.
 */
const dynamodbIamActions = new Set(
  [
    'BatchGetItem',
    'BatchWriteItem',
    'ConditionCheckItem',
    'CreateBackup',
    'CreateGlobalTable',
    'CreateTable',
    'CreateTableReplica',
    'DeleteBackup',
    'DeleteItem',
    'DeleteResourcePolicy',
    'DeleteTable',
    'DeleteTableReplica',
    'DescribeBackup',
    'DescribeContinuousBackups',
    'DescribeContributorInsights',
    'DescribeEndpoints',
    'DescribeExport',
    'DescribeGlobalTable',
    'DescribeGlobalTableSettings',
    'DescribeImport',
    'DescribeKinesisStreamingDestination',
    'DescribeLimits',
    'DescribeReservedCapacity',
    'DescribeReservedCapacityOfferings',
    'DescribeStream',
    'DescribeTable',
    'DescribeTableReplicaAutoScaling',
    'DescribeTimeToLive',
    'DisableKinesisStreamingDestination',
    'EnableKinesisStreamingDestination',
    'ExportTableToPointInTime',
    'GetAbacStatus',
    'GetItem',
    'GetRecords',
    'GetResourcePolicy',
    'GetShardIterator',
    'ImportTable',
    'ListBackups',
    'ListContributorInsights',
    'ListExports',
    'ListGlobalTables',
    'ListImports',
    'ListStreams',
    'ListTables',
    'ListTagsOfResource',
    'PartiQLDelete',
    'PartiQLInsert',
    'PartiQLSelect',
    'PartiQLUpdate',
    'PurchaseReservedCapacityOfferings',
    'PutItem',
    'PutResourcePolicy',
    'Query',
    'RestoreTableFromAwsBackup',
    'RestoreTableFromBackup',
    'RestoreTableToPointInTime',
    'Scan',
    'StartAwsBackupJob',
    'TagResource',
    'UntagResource',
    'UpdateAbacStatus',
    'UpdateContinuousBackups',
    'UpdateContributorInsights',
    'UpdateGlobalTable',
    'UpdateGlobalTableSettings',
    'UpdateGlobalTableVersion',
    'UpdateItem',
    'UpdateKinesisStreamingDestination',
    'UpdateTable',
    'UpdateTableReplicaAutoScaling',
    'UpdateTimeToLive',
  ].map((action) => `dynamodb:${action}`),
);
const tableUsers = functionNames.filter((name) => functionTableAccess[name] !== undefined);
const functionsWithoutTable = functionNames.filter((name) => functionTableAccess[name] === undefined);
const protectedRoutes = routes.filter((route) => route.access !== 'public');

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
}
interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
}
interface PolicyDocument {
  readonly Statement: Statement[];
}

let app: App;
let stack: NoLostUpdatesStack;
let template: Template;
let webBuild: string;

/**
 * The template's resources of a type. API Gateway's are the HTTP API's: the live channel's
 * WebSocket API, its routes, stage, authorizer and invoke permissions are asserted in
 * test/cdk/live.test.ts.
 */
const resourcesOfType = (type: string): Record<string, Resource> => {
  const found = template.findResources(type) as Record<string, Resource>;
  if (!type.startsWith('AWS::ApiGatewayV2::') && type !== 'AWS::Lambda::Permission') return found;
  const webSocketApi = `{"Ref":"${logicalIdOf(stack.live.api)}"}`;
  return Object.fromEntries(
    Object.entries(found).filter(
      ([, resource]) =>
        resource.Properties.ProtocolType !== 'WEBSOCKET' &&
        !JSON.stringify(resource.Properties.ApiId ?? resource.Properties.SourceArn ?? '').includes(
          webSocketApi,
        ),
    ),
  );
};

/** The one entry of `entries`, failing the test unless there is exactly one. */
const onlyEntry = <T>(entries: [string, T][]): [string, T] => {
  expect(entries).toHaveLength(1);
  const [entry] = entries;
  if (!entry) throw new Error('No such resource in the template');
  return entry;
};

const onlyResourceOfType = (type: string): [string, Resource] =>
  onlyEntry(Object.entries(resourcesOfType(type)));

const resourceById = (logicalId: string): Resource => {
  const resource = (template.toJSON().Resources as Record<string, Resource>)[logicalId];
  if (!resource) throw new Error(`No resource ${logicalId} in the template`);
  return resource;
};

const logicalIdOf = (construct: IConstruct): string => {
  const element = construct.node.defaultChild;
  if (!(element instanceof CfnElement)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  }
  return stack.getLogicalId(element);
};

const assetDirOf = (name: FunctionName): string => {
  const fn = resourceById(logicalIdOf(functionOf(name)));
  return join(app.outdir, String(fn.Metadata?.['aws:asset:path']));
};

const functionOf = (name: FunctionName) => {
  const fn = stack.functions.get(name);
  if (!fn) throw new Error(`The stack has no function '${name}'`);
  return fn;
};

const roleIdOf = (name: FunctionName): string => {
  const { role } = functionOf(name);
  if (!role) throw new Error(`Function '${name}' has no role`);
  return logicalIdOf(role);
};

const routeResource = (route: Pick<RouteSpec, 'method' | 'path'>): Resource => {
  const matches = Object.values(resourcesOfType('AWS::ApiGatewayV2::Route')).filter(
    (resource) => resource.Properties.RouteKey === routeKeyOf(route),
  );
  expect(matches).toHaveLength(1);
  const [match] = matches;
  if (!match) throw new Error(`No route ${routeKeyOf(route)}`);
  return match;
};

const actionsOf = (statement: Statement): string[] =>
  typeof statement.Action === 'string' ? [statement.Action] : statement.Action;

/** Every statement of every policy in the template: role trust and inline policies included. */
const allStatements = (): Statement[] => {
  const documents: PolicyDocument[] = [];
  for (const resource of Object.values(template.toJSON().Resources as Record<string, Resource>)) {
    const { PolicyDocument, AssumeRolePolicyDocument, Policies } = resource.Properties ?? {};
    if (PolicyDocument) documents.push(PolicyDocument as PolicyDocument);
    if (AssumeRolePolicyDocument) documents.push(AssumeRolePolicyDocument as PolicyDocument);
    // A user pool's `Policies` is its password policy, not IAM.
    if (resource.Type === 'AWS::IAM::Role') {
      for (const inline of (Policies ?? []) as { PolicyDocument: PolicyDocument }[]) {
        documents.push(inline.PolicyDocument);
      }
    }
  }
  return documents.flatMap((document) => document.Statement);
};

const isRefTo = (value: unknown, logicalId: string): boolean =>
  JSON.stringify(value) === JSON.stringify({ Ref: logicalId });

/** Statements that apply to one role: its attached policies and its inline policies. */
const statementsOfRole = (roleId: string): Statement[] => {
  const attached = Object.values(resourcesOfType('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as unknown[]).some((ref) => isRefTo(ref, roleId)))
    .flatMap((policy) => (policy.Properties.PolicyDocument as PolicyDocument).Statement);
  const inline = (
    (resourceById(roleId).Properties.Policies ?? []) as { PolicyDocument: PolicyDocument }[]
  ).flatMap((policy) => policy.PolicyDocument.Statement);
  return [...attached, ...inline];
};

beforeAll(() => {
  // The same feature flags as `cdk synth`, so the test asserts on what would deploy; asset
  // metadata, which the CLI turns on, points the bundle test at each function's bundle.
  // A web build stands in for web/dist, so the test does not depend on whether it was built.
  webBuild = mkdtempSync(join(tmpdir(), 'web-build-'));
  writeFileSync(join(webBuild, 'index.html'), '<!doctype html><title>test</title>');
  app = new App({ context: { ...cdkContext, [ASSET_RESOURCE_METADATA_ENABLED_CONTEXT]: true } });
  stack = new NoLostUpdatesStack(app, 'TestStack', {
    webAppDir: webBuild,
    reservedConcurrency: 20,
    alarmEmail,
  });
  template = Template.fromStack(stack);
}, 120_000);

afterAll(() => {
  rmSync(app.outdir, { recursive: true, force: true });
  rmSync(webBuild, { recursive: true, force: true });
});

describe('HTTP API routes', () => {
  it('declares exactly the route keys of the route table, an ANY route beside each path, and $default', () => {
    const routeKeys = Object.values(resourcesOfType('AWS::ApiGatewayV2::Route')).map(
      (resource) => resource.Properties.RouteKey,
    );

    expect(routeKeys.sort()).toEqual(
      [...routes.map(routeKeyOf), ...[...pathMethods().keys()].map(anyRouteKeyOf), '$default'].sort(),
    );
  });

  it.each([...[...pathMethods().keys()].map(anyRouteKeyOf), '$default'])(
    'sends %s to the health function, with no authorizer',
    (routeKey) => {
      const [route] = Object.values(resourcesOfType('AWS::ApiGatewayV2::Route')).filter(
        (resource) => resource.Properties.RouteKey === routeKey,
      );
      const target = JSON.stringify(route?.Properties.Target);
      const [integration] = Object.entries(resourcesOfType('AWS::ApiGatewayV2::Integration')).filter(([id]) =>
        target.includes(`"Ref":"${id}"`),
      );

      expect([route?.Properties.AuthorizationType, route?.Properties.AuthorizerId]).toEqual([
        'NONE',
        undefined,
      ]);
      expect(integration?.[1].Properties.IntegrationUri).toEqual({
        'Fn::GetAtt': [logicalIdOf(functionOf('health')), 'Arn'],
      });
    },
  );

  it.each(protectedRoutes.map((route) => [routeKeyOf(route), route] as const))(
    'requires a JWT checked by the authorizer on %s',
    (_key, route) => {
      const [authorizerId] = onlyResourceOfType('AWS::ApiGatewayV2::Authorizer');

      const { Properties } = routeResource(route);

      expect(Properties.AuthorizationType).toBe('JWT');
      expect(Properties.AuthorizerId).toEqual({ Ref: authorizerId });
    },
  );

  it.each(['/health', '/openapi.json'])('leaves GET %s open, with no authorizer', (path) => {
    const { Properties } = routeResource({ method: 'GET', path });

    expect(Properties.AuthorizationType).toBe('NONE');
    expect(Properties.AuthorizerId).toBeUndefined();
  });

  it.each(routes.map((route) => [routeKeyOf(route), route] as const))(
    'sends %s to the Lambda function of its route',
    (_key, route) => {
      const { Properties } = routeResource(route);
      const target = JSON.stringify(Properties.Target);
      const integrations = Object.entries(resourcesOfType('AWS::ApiGatewayV2::Integration')).filter(([id]) =>
        target.includes(`"Ref":"${id}"`),
      );

      expect(integrations).toHaveLength(1);
      expect(integrations[0]?.[1].Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [logicalIdOf(functionOf(route.fn)), 'Arn'] },
      });
    },
  );

  it('lets API Gateway invoke each function from this API only', () => {
    const [apiId] = onlyResourceOfType('AWS::ApiGatewayV2::Api');
    const permissions = Object.values(resourcesOfType('AWS::Lambda::Permission'));

    const invokedFunctions = permissions.map((permission) => permission.Properties.FunctionName);

    expect(invokedFunctions).toHaveLength(functionNames.length);
    expect(invokedFunctions).toEqual(
      expect.arrayContaining(
        functionNames.map((name) => ({ 'Fn::GetAtt': [logicalIdOf(functionOf(name)), 'Arn'] })),
      ),
    );
    for (const permission of permissions) {
      expect(permission.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
      });
      expect(JSON.stringify(permission.Properties.SourceArn)).toContain(`{"Ref":"${apiId}"}`);
    }
  });
});

describe('Lambda functions', () => {
  it('creates exactly one function per function name and per live function, besides the web deployment handler', () => {
    const functionIds = Object.keys(resourcesOfType('AWS::Lambda::Function'));

    const [deploymentHandler, ...others] = functionIds.filter((id) =>
      id.startsWith('CustomCDKBucketDeployment'),
    );
    const apiFunctions = functionIds.filter((id) => id !== deploymentHandler);

    expect([deploymentHandler === undefined, others]).toEqual([false, []]);
    expect(apiFunctions.sort()).toEqual(
      [
        ...functionNames.map((name) => logicalIdOf(functionOf(name))),
        ...liveFunctionNames.map((name) => logicalIdOf(stack.live.functions.get(name)?.fn as IConstruct)),
      ].sort(),
    );
  });

  it.each(functionNames)('bundles %s as an ES module with a require shim and no source map', (name) => {
    const assetDir = assetDirOf(name);

    const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');

    expect(bundle).toMatch(/^import \{ createRequire as topLevelCreateRequire \} from 'node:module';/);
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(false);
    expect(existsSync(join(assetDir, 'index.js'))).toBe(false);
  });

  it.each(liveFunctionNames)(
    'starts the %s bundle in a fresh process with only the environment the stack gives it',
    (name) => {
      const fn = resourceById(logicalIdOf(stack.live.functions.get(name)?.fn as IConstruct));
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      // What CloudFormation resolves at deploy (a table's name, an endpoint) stands in as a URL.
      const env = Object.fromEntries(
        Object.entries(variables).map(([key, value]) => [
          key,
          typeof value === 'string' ? value : `https://resolved.example/${key}`,
        ]),
      );
      const bundle = pathToFileURL(
        join(app.outdir, String(fn.Metadata?.['aws:asset:path']), 'index.mjs'),
      ).href;

      const started = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { handler } = await import(${JSON.stringify(bundle)}); if (typeof handler !== 'function') process.exit(3);`,
        ],
        { env: { PATH: process.env.PATH, AWS_REGION: 'eu-central-1', ...env }, encoding: 'utf8' },
      );

      // The tail is enough to say why (a minified bundle's lines are long).
      expect([started.status, started.stderr.slice(-800)]).toEqual([0, '']);
    },
  );

  it('loads the health bundle as an ES module whose handler answers 200, and serves the OpenAPI document as built', async () => {
    const bundleUrl = pathToFileURL(join(assetDirOf('health'), 'index.mjs')).href;

    const { handler } = (await import(bundleUrl)) as {
      handler: (event: {
        routeKey: string;
        headers?: Record<string, string>;
      }) => Promise<{ statusCode: number; body: string; isBase64Encoded?: boolean }>;
    };
    const health = await handler({ routeKey: 'GET /health' });
    const plain = await handler({ routeKey: 'GET /openapi.json', headers: {} });
    const gzip = await handler({ routeKey: 'GET /openapi.json', headers: { 'accept-encoding': 'gzip' } });

    expect([health.statusCode, JSON.parse(health.body)]).toEqual([200, { status: 'ok' }]);
    // The bytes copied beside the bundle are those `npm run openapi` wrote.
    expect(readFileSync(join(assetDirOf('health'), 'openapi.json'))).toEqual(
      readFileSync(join(root, 'openapi.json')),
    );
    expect([plain.statusCode, plain.isBase64Encoded]).toEqual([200, true]);
    expect(Buffer.from(plain.body, 'base64')).toEqual(readFileSync(join(root, 'openapi.json')));
    expect(gunzipSync(Buffer.from(gzip.body, 'base64'))).toEqual(readFileSync(join(root, 'openapi.json')));
  });

  it('the health bundle answers 405 with Allow for every path and method it does not take, and $default 404', async () => {
    const bundleUrl = pathToFileURL(join(assetDirOf('health'), 'index.mjs')).href;
    const { handler } = (await import(bundleUrl)) as {
      handler: (event: {
        routeKey: string;
        requestContext: { requestId: string };
      }) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;
    };
    const answerTo = async (routeKey: string) => {
      const answer = await handler({ routeKey, requestContext: { requestId: 'r1' } });
      return [answer.statusCode, answer.headers.Allow, JSON.parse(answer.body).code];
    };
    for (const [path, methods] of pathMethods()) {
      expect([path, await answerTo(anyRouteKeyOf(path))]).toEqual([
        path,
        [405, methods.join(', '), 'METHOD_NOT_ALLOWED'],
      ]);
      // API Gateway sends ANY only the methods the path does not declare.
      expect(httpMethods.filter((method) => !methods.includes(method)).length).toBeGreaterThan(0);
    }
    expect(await answerTo('$default')).toEqual([404, undefined, 'NOT_FOUND']);
  });

  it('runs the annotations bundle on its own: payload 2.0 events create and read a record in DynamoDB Local', async () => {
    const bundleUrl = pathToFileURL(join(assetDirOf('annotations'), 'index.mjs')).href;
    const { handler } = (await import(bundleUrl)) as {
      handler: (event: ApiEvent, context: unknown) => Promise<{ statusCode: number; body: string }>;
    };

    const created = await handler(
      apiEvent('POST /annotations', { path: '/annotations', body: { name: 'from the bundle' } }),
      {},
    );
    const { id } = JSON.parse(created.body) as { id: string };
    const read = await handler(apiEvent('GET /annotations/{id}', { path: `/annotations/${id}`, id }), {});

    expect([created.statusCode, read.statusCode, JSON.parse(read.body).name]).toEqual([
      201,
      200,
      'from the bundle',
    ]);
  });

  it.each(functionNames)('runs %s on nodejs22.x, arm64, 512 MB, 10 s timeout', (name) => {
    const fn = resourceById(logicalIdOf(functionOf(name)));

    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 10,
    });
  });

  it.each(functionNames)('gives %s the table name and the Powertools service and namespace', (name) => {
    const fn = resourceById(logicalIdOf(functionOf(name)));

    expect(fn.Properties.Environment).toEqual({
      Variables: {
        TABLE_NAME: { Ref: logicalIdOf(stack.table) },
        POWERTOOLS_SERVICE_NAME: 'no-lost-updates',
        POWERTOOLS_METRICS_NAMESPACE: 'NoLostUpdates',
      },
    });
  });

  it.each(functionNames)('traces %s with X-Ray', (name) => {
    const fn = resourceById(logicalIdOf(functionOf(name)));

    expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('reserves the concurrency it is given for each table function, none for health', () => {
    const reserved = Object.fromEntries(
      functionNames.map((name) => [
        name,
        resourceById(logicalIdOf(functionOf(name))).Properties.ReservedConcurrentExecutions,
      ]),
    );

    expect(reserved).toEqual({
      health: undefined,
      annotations: 20,
      orders: 20,
      debtors: 20,
      articles: 20,
      accounts: 20,
    });
  });

  it.each(functionNames)('logs %s to its own log group kept for 30 days', (name) => {
    const fn = resourceById(logicalIdOf(functionOf(name)));
    const logGroupRef = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup;

    const logGroup = resourceById(logGroupRef.Ref);

    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });
});

describe('DynamoDB table', () => {
  it('bills on demand', () => {
    const [, table] = onlyResourceOfType('AWS::DynamoDB::GlobalTable');

    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('has point-in-time recovery enabled', () => {
    const [, table] = onlyResourceOfType('AWS::DynamoDB::GlobalTable');

    expect(table.Properties.Replicas).toEqual([
      expect.objectContaining({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
    ]);
  });

  it('expires items through the TTL attribute of the spec', () => {
    const [, table] = onlyResourceOfType('AWS::DynamoDB::GlobalTable');

    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: tableSpec.ttlAttribute,
      Enabled: true,
    });
  });

  it('has the key schema of the spec', () => {
    const [, table] = onlyResourceOfType('AWS::DynamoDB::GlobalTable');

    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: tableSpec.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableSpec.sortKey, KeyType: 'RANGE' },
    ]);
  });

  it('has the global indexes of the spec, projecting all attributes', () => {
    const [, table] = onlyResourceOfType('AWS::DynamoDB::GlobalTable');

    expect(table.Properties.GlobalSecondaryIndexes).toEqual(
      tableSpec.globalIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
  });

  it('is retained when the stack is deleted or the table replaced, and protected from deletion', () => {
    const [, table] = onlyResourceOfType('AWS::DynamoDB::GlobalTable');

    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties.Replicas).toEqual([expect.objectContaining({ DeletionProtectionEnabled: true })]);
  });
});

describe('IAM', () => {
  const functionRoleIds = (): string[] => functionNames.map(roleIdOf);
  const indexArnOf = (index: string) => ({
    'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(stack.table), 'Arn'] }, `/index/${index}`]],
  });

  it('has no wildcard action in any statement of a function role', () => {
    const actions = functionRoleIds().flatMap(statementsOfRole).flatMap(actionsOf);

    const wildcards = actions.filter((action) => action.includes('*'));

    expect(actions.length).toBeGreaterThan(0);
    expect(wildcards).toEqual([]);
  });

  it('names only actions of the DynamoDB action list, in every statement of the template', () => {
    const actions = allStatements()
      .flatMap(actionsOf)
      .filter((action) => action.startsWith('dynamodb:'));

    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => !dynamodbIamActions.has(action))).toEqual([]);
  });

  it.each(tableUsers)(
    'grants %s exactly its declared table actions on the table and Query on its declared indexes',
    (name) => {
      const tableArn = { 'Fn::GetAtt': [logicalIdOf(stack.table), 'Arn'] };
      const access = functionTableAccess[name];

      const dynamodb = statementsOfRole(roleIdOf(name)).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
      );

      expect(dynamodb).toEqual([
        {
          Effect: 'Allow',
          Action: [...(access?.table ?? [])].sort(),
          Resource: tableArn,
        },
        ...(access?.indexes.length
          ? [
              {
                Effect: 'Allow',
                Action: 'dynamodb:Query',
                Resource:
                  access.indexes.length === 1
                    ? indexArnOf(access.indexes[0] as string)
                    : access.indexes.map(indexArnOf),
              },
            ]
          : []),
      ]);
    },
  );

  it.each(functionNames)('lets %s write its own log group and trace segments, nothing more', (name) => {
    const logGroupId = (
      resourceById(logicalIdOf(functionOf(name))).Properties.LoggingConfig as {
        LogGroup: { Ref: string };
      }
    ).LogGroup.Ref;

    const others = statementsOfRole(roleIdOf(name)).filter(
      (statement) => !actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
    );

    expect(others).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
      { Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' },
    ]);
    expect(resourceById(roleIdOf(name)).Properties.ManagedPolicyArns).toBeUndefined();
  });

  it.each(functionsWithoutTable)('grants %s no DynamoDB action', (name) => {
    const actions = statementsOfRole(roleIdOf(name)).flatMap(actionsOf);

    expect(actions.filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('sign-in', () => {
  it('creates a user pool nobody signs up to alone, with one group per role', () => {
    const [, pool] = onlyResourceOfType('AWS::Cognito::UserPool');
    const groups = Object.values(resourcesOfType('AWS::Cognito::UserPoolGroup')).map(
      (group) => group.Properties.GroupName,
    );

    expect(pool.Properties.AdminCreateUserConfig).toEqual({ AllowAdminCreateUserOnly: true });
    expect(groups.sort()).toEqual([...roles].sort());
  });

  it('creates an app client without a secret that signs in by password or SRP', () => {
    const [, client] = onlyResourceOfType('AWS::Cognito::UserPoolClient');

    expect(client.Properties).toMatchObject({
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('has the JWT authorizer trust the user pool as issuer and its client as audience', () => {
    const [poolId] = onlyResourceOfType('AWS::Cognito::UserPool');
    const [clientId] = onlyResourceOfType('AWS::Cognito::UserPoolClient');
    const [, authorizer] = onlyResourceOfType('AWS::ApiGatewayV2::Authorizer');

    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Issuer: { 'Fn::GetAtt': [poolId, 'ProviderURL'] },
        Audience: [{ Ref: clientId }],
      },
    });
  });

  it('trusts an external provider instead when one is given, and creates no user pool', () => {
    const external = variant({ identity: { issuer: jwtIssuer, audience: jwtAudience } });

    const authorizers = Object.values(
      external.template.findResources('AWS::ApiGatewayV2::Authorizer'),
    ).filter((authorizer) => authorizer.Properties.AuthorizerType === 'JWT');

    expect(authorizers.map((authorizer) => authorizer.Properties.JwtConfiguration)).toEqual([
      { Issuer: jwtIssuer, Audience: [jwtAudience] },
    ]);
    expect(Object.keys(external.template.findResources('AWS::Cognito::UserPool'))).toEqual([]);
    expect(Object.keys(external.template.findResources('AWS::Cognito::UserPoolClient'))).toEqual([]);
    expect(Object.keys(external.template.findOutputs('UserPoolId'))).toEqual([]);
  });

  it('reads the provider from the context: both names or neither', () => {
    const context = (values: Record<string, string>) => (key: string) => values[key];

    expect(identityFromContext(context({}))).toBeUndefined();
    expect(identityFromContext(context({ jwtIssuer, jwtAudience }))).toEqual({
      issuer: jwtIssuer,
      audience: jwtAudience,
    });
  });

  it.each([
    ['jwtIssuer', { jwtIssuer }],
    ['jwtAudience', { jwtAudience }],
  ])('refuses a context with only %s, saying what to pass', (only, values) => {
    const context = (key: string) => (values as Record<string, string>)[key];

    expect(() => identityFromContext(context)).toThrow(
      `CDK context: jwtIssuer and jwtAudience go together (got only ${only}). Pass both (-c jwtIssuer=https://issuer.example.com/ -c jwtAudience=my-api) to trust an external identity provider, or neither to use the Cognito user pool the stack creates.`,
    );
  });

  it('refuses an issuer that is not https', () => {
    const context = (key: string) => ({ jwtIssuer: 'http://issuer.test/', jwtAudience })[key];

    expect(() => identityFromContext(context)).toThrow(
      "CDK context 'jwtIssuer' must be an https:// URL, got 'http://issuer.test/'",
    );
  });

  it('keeps no placeholder issuer in cdk.json', () => {
    expect([cdkContext.jwtIssuer, cdkContext.jwtAudience]).toEqual([undefined, undefined]);
  });

  it('outputs the API URL, the user pool and client ids and the web app URL', () => {
    const [poolId] = onlyResourceOfType('AWS::Cognito::UserPool');
    const [clientId] = onlyResourceOfType('AWS::Cognito::UserPoolClient');
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmDestination',
        'AlarmTopicArn',
        'ApiUrl',
        'DashboardUrl',
        'JwtIssuer',
        'LiveUrl',
        'TableName',
        'UserPoolClientId',
        'UserPoolId',
        'WebAppUrl',
      ].sort(),
    );
    expect(outputs.UserPoolId?.Value).toEqual({ Ref: poolId });
    expect(outputs.UserPoolClientId?.Value).toEqual({ Ref: clientId });
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain(
      `{"Ref":"${onlyResourceOfType('AWS::ApiGatewayV2::Api')[0]}"}`,
    );
    expect(JSON.stringify(outputs.WebAppUrl?.Value)).toContain(
      `{"Fn::GetAtt":["${onlyResourceOfType('AWS::CloudFront::Distribution')[0]}","DomainName"]}`,
    );
  });
});

describe('web app', () => {
  it('serves a private bucket through CloudFront over HTTPS', () => {
    const [, bucket] = onlyResourceOfType('AWS::S3::Bucket');
    const [, distribution] = onlyResourceOfType('AWS::CloudFront::Distribution');

    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(distribution.Properties.DistributionConfig).toMatchObject({
      DefaultRootObject: 'index.html',
      DefaultCacheBehavior: { ViewerProtocolPolicy: 'redirect-to-https' },
    });
  });

  it('deploys the build and a config.json naming the API, the pool, the client and the region', () => {
    const [, deployment] = onlyResourceOfType('Custom::CDKBucketDeployment');

    const sources = deployment.Properties.SourceObjectKeys as unknown[];
    const markers = deployment.Properties.SourceMarkersConfig as unknown[];

    expect(sources).toHaveLength(2);
    expect(markers).toHaveLength(2);
    // Removed with the stack, so the bucket it empties can be deleted too.
    expect(deployment.Properties.RetainOnDelete).toBe(false);
    expect(deployment.DeletionPolicy).toBe('Delete');
    const config = JSON.stringify(deployment.Properties.SourceMarkers);
    for (const [resource] of [
      onlyResourceOfType('AWS::Cognito::UserPool'),
      onlyResourceOfType('AWS::Cognito::UserPoolClient'),
      onlyResourceOfType('AWS::ApiGatewayV2::Api'),
    ]) {
      expect(config).toContain(`"Ref":"${resource}"`);
    }
  });

  it('deploys only config.json when there is no build yet', () => {
    const unbuilt = variant({ webAppDir: join(webBuild, 'not-built') });

    const [deployment] = Object.values(unbuilt.template.findResources('Custom::CDKBucketDeployment'));

    expect(deployment?.Properties.SourceObjectKeys).toHaveLength(1);
  });

  it('lets the web app call the API across origins, with every request header of the document', () => {
    const [, api] = onlyResourceOfType('AWS::ApiGatewayV2::Api');
    const [distributionId] = onlyResourceOfType('AWS::CloudFront::Distribution');
    const cors = api.Properties.CorsConfiguration as Record<string, unknown>;
    const operations = Object.values(loadDocument().dereferenced.paths).flatMap((item) =>
      Object.values(item),
    );
    const documentHeaders = operations
      .flatMap((operation) => (operation.parameters ?? []) as { in: string; name: string }[])
      .filter((parameter) => parameter.in === 'header')
      .map((parameter) => parameter.name.toLowerCase());
    const answerHeaders = operations
      .flatMap((operation) => Object.values(operation.responses))
      .flatMap((response) => Object.keys(response.headers ?? {}))
      .map((name) => name.toLowerCase());

    expect(cors.AllowOrigins).toEqual([
      { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] },
    ]);
    expect(cors.AllowMethods).toEqual(['*']);
    expect([...new Set(documentHeaders)].sort()).toEqual([
      'idempotency-key',
      'if-match',
      'if-none-match',
      'lock-token',
    ]);
    expect(cors.AllowHeaders).toEqual(
      expect.arrayContaining(['authorization', 'content-type', ...documentHeaders]),
    );
    // Every header an answer of the document carries, and `Allow` of a 405, the app may read.
    expect([...(cors.ExposeHeaders as string[])].sort()).toEqual(
      [...new Set([...answerHeaders.filter((name) => name !== 'www-authenticate'), 'allow'])].sort(),
    );
  });
});

describe('web app at the edge', () => {
  const region = { Ref: 'AWS::Region' };

  it('answers with HSTS, nosniff, no framing, a referrer policy and the app’s content security policy', () => {
    const [policyId, policy] = onlyResourceOfType('AWS::CloudFront::ResponseHeadersPolicy');
    const [, distribution] = onlyResourceOfType('AWS::CloudFront::Distribution');

    expect(policy.Properties.ResponseHeadersPolicyConfig).toMatchObject({
      SecurityHeadersConfig: {
        StrictTransportSecurity: {
          AccessControlMaxAgeSec: 63_072_000,
          IncludeSubdomains: true,
          Override: true,
        },
        ContentTypeOptions: { Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: true },
        ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
        ContentSecurityPolicy: {
          ContentSecurityPolicy: {
            'Fn::Join': [
              '',
              [
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://*.execute-api.",
                region,
                '.amazonaws.com wss://*.execute-api.',
                region,
                '.amazonaws.com https://cognito-idp.',
                region,
                ".amazonaws.com; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
              ],
            ],
          },
          Override: true,
        },
      },
    });
    expect(
      (distribution.Properties.DistributionConfig as { DefaultCacheBehavior: Record<string, unknown> })
        .DefaultCacheBehavior.ResponseHeadersPolicyId,
    ).toEqual({ Ref: policyId });
  });

  it('lets the app connect to no sign-in endpoint when an external provider signs in', () => {
    const external = variant({ identity: { issuer: jwtIssuer, audience: jwtAudience } });

    const [policy] = Object.values(external.template.findResources('AWS::CloudFront::ResponseHeadersPolicy'));

    expect(
      policy?.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy,
    ).toEqual({
      ContentSecurityPolicy: {
        'Fn::Join': [
          '',
          [
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://*.execute-api.",
            region,
            '.amazonaws.com wss://*.execute-api.',
            region,
            ".amazonaws.com; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          ],
        ],
      },
      Override: true,
    });
  });

  it('rewrites no error to index.html: the app’s routes are in the hash, so a missing file stays an error', () => {
    const [, distribution] = onlyResourceOfType('AWS::CloudFront::Distribution');

    expect(
      (distribution.Properties.DistributionConfig as { CustomErrorResponses?: unknown }).CustomErrorResponses,
    ).toBeUndefined();
  });

  it('lets the web deployment invalidate its own distribution only, and log to a log group of its own', () => {
    const [distributionId] = onlyResourceOfType('AWS::CloudFront::Distribution');
    const [, deploymentHandler] = onlyEntry(
      Object.entries(resourcesOfType('AWS::Lambda::Function')).filter(([id]) =>
        id.startsWith('CustomCDKBucketDeployment'),
      ),
    );
    const roleId = (deploymentHandler.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

    const statements = statementsOfRole(roleId);

    expect(
      statements.filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('cloudfront:')),
      ),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudfront::',
              { Ref: 'AWS::AccountId' },
              ':distribution/',
              { Ref: distributionId },
            ],
          ],
        },
      },
    ]);
    const logGroupId = (deploymentHandler.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup
      .Ref;
    expect(
      statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith('logs:'))),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
    expect(resourceById(roleId).Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('grants resource * only where X-Ray needs it', () => {
    const onAll = allStatements().filter((statement) => JSON.stringify(statement.Resource) === '"*"');

    expect(onAll.map(actionsOf)).toEqual(
      Array(functionNames.length + liveFunctionNames.length).fill([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]),
    );
  });

  it('deletes every log group with the stack, after keeping its lines 30 days', () => {
    const logGroups = Object.values(resourcesOfType('AWS::Logs::LogGroup'));

    expect(logGroups.map((group) => [group.DeletionPolicy, group.Properties.RetentionInDays])).toEqual(
      // Each function's, the API's and the live channel's access logs, the web deployment's.
      Array(functionNames.length + liveFunctionNames.length + 3).fill(['Delete', 30]),
    );
  });

  it('warns at synth, naming the command that builds it, when the web app is not built', () => {
    const unbuilt = variant({ webAppDir: join(webBuild, 'not-built') });

    const warnings = Annotations.fromStack(unbuilt.stack).findWarning('*', Match.anyValue());

    expect(warnings.map((warning) => [warning.id, warning.entry.data])).toContainEqual([
      '/VariantStack/Web',
      `No web app build in ${join(webBuild, 'not-built')}: only config.json is deployed, and the app's URL answers 403. \`npm run deploy\` builds it first. [ack: no-lost-updates:web-app-not-built]`,
    ]);
  });
});

describe('guardrails', () => {
  it('throttles the stage with the default rate and burst', () => {
    const [, stage] = onlyResourceOfType('AWS::ApiGatewayV2::Stage');

    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('throttles the stage as told', () => {
    const throttled = variant({ throttle: { rateLimit: 7, burstLimit: 9 } });

    const [stage] = Object.values(throttled.template.findResources('AWS::ApiGatewayV2::Stage')).filter(
      (found) => found.Properties.StageName === '$default',
    );

    expect(stage?.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 7,
      ThrottlingBurstLimit: 9,
    });
  });

  it('writes a JSON access log line per request: request id, route, status, latency and caller', () => {
    const [, stage] = onlyResourceOfType('AWS::ApiGatewayV2::Stage');
    const settings = stage.Properties.AccessLogSettings as { DestinationArn: unknown; Format: string };

    const format = JSON.parse(settings.Format);

    expect(format).toEqual(accessLogFields);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
      caller: '$context.authorizer.claims.sub',
    });
    const logGroupId = (settings.DestinationArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(resourceById(logGroupId).Properties.RetentionInDays).toBe(30);
  });
});

describe('alarms and dashboard', () => {
  const alarmsByName = () =>
    Object.fromEntries(
      Object.entries(resourcesOfType('AWS::CloudWatch::Alarm')).map(([id, alarm]) => [
        id.replace(/^Operations/, '').replace(/[0-9A-F]{8}$/, ''),
        alarm,
      ]),
    );

  it('has the API, contention, throttling, table, per-function and live channel alarms', () => {
    const names = Object.keys(alarmsByName()).sort();

    expect(names).toEqual(
      [
        'ServerErrorRateAlarm',
        'UnauthorizedRateAlarm',
        'WriteContentionRateAlarm',
        'ThrottledRateAlarm',
        'TableSystemErrorsAlarm',
        ...functionNames.flatMap((name) => {
          const id = name[0]?.toUpperCase() + name.slice(1);
          return [
            `${id}ErrorsAlarm`,
            `${id}ThrottlesAlarm`,
            `${id}DurationAlarm`,
            `${id}ServerErrorRateAlarm`,
          ];
        }),
        ...liveFunctionNames.flatMap((name) => {
          const id = pascalCase(name);
          return [
            `${id}ErrorsAlarm`,
            `${id}ThrottlesAlarm`,
            `${id}DurationAlarm`,
            ...(name === 'live-stream' ? [`${id}IteratorAgeAlarm`] : []),
          ];
        }),
        'LiveFailedChangesAlarm',
      ].sort(),
    );
  });

  it('sends every alarm, and its return to OK, to the alarm topic', () => {
    const [topicId] = onlyResourceOfType('AWS::SNS::Topic');

    const actions = Object.values(alarmsByName()).map((alarm) => [
      alarm.Properties.AlarmActions,
      alarm.Properties.OKActions,
    ]);

    // The stack's five, four per API function, three per live function, the stream consumer's
    // iterator age and its failure queue.
    expect(actions.length).toBe(5 + 4 * functionNames.length + 3 * liveFunctionNames.length + 2);
    for (const action of actions) expect(action).toEqual([[{ Ref: topicId }], [{ Ref: topicId }]]);
  });

  it('alarms on the 5xx and WRITE_CONTENTION rates as percentages of requests, from 5 of them in a period', () => {
    const alarms = alarmsByName();

    const expressionOf = (name: string) =>
      (
        (alarms[name]?.Properties.Metrics ?? []) as {
          Expression?: string;
          MetricStat?: { Metric: { MetricName: string } };
        }[]
      )
        .map((metric) => metric.Expression ?? metric.MetricStat?.Metric.MetricName)
        .sort();

    expect(expressionOf('ServerErrorRateAlarm')).toEqual([
      '5xx',
      'Count',
      'IF(FILL(errors, 0) >= 5, 100 * FILL(errors, 0) / requests, 0)',
    ]);
    expect(expressionOf('WriteContentionRateAlarm')).toEqual([
      'Count',
      'IF(FILL(errors, 0) >= 5, 100 * FILL(errors, 0) / requests, 0)',
      'WriteContention',
    ]);
    expect(alarms.WriteContentionRateAlarm?.Properties.Threshold).toBe(1);
  });

  it('has one dashboard', () => {
    const [, dashboard] = onlyResourceOfType('AWS::CloudWatch::Dashboard');

    expect(JSON.stringify(dashboard.Properties.DashboardBody)).toContain('Contention and throttling');
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('finds nothing that is neither fixed nor acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);

    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('finds nothing in the variant with an external provider either', () => {
    const external = variant({ identity: { issuer: jwtIssuer, audience: jwtAudience } });

    const report = new AwsSolutionsChecks().validateScope(external.stack);

    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
  });

  it('gives each acknowledgement a reason of its own', () => {
    const acknowledgements = acknowledgementsOf(stack);

    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledgements) {
      expect(id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(reason.length, id).toBeGreaterThan(30);
    }
  });

  it('acknowledges only findings a rule of the installed cdk-nag raises on that construct or below', () => {
    expect(deadAcknowledgements(stack)).toEqual([]);
  });
});
