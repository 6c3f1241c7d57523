import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ASSET_RESOURCE_METADATA_ENABLED_CONTEXT } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoLostUpdatesStack } from '../../cdk/stack';
import { tableSpec } from '../../lib/db/table-spec';
import { type FunctionName, functionNames, type RouteSpec, routeKeyOf, routes } from '../../lib/routes';

const jwtIssuer = 'https://issuer.test.invalid/';
const jwtAudience = 'stack-test-audience';

/** Written out rather than imported from the stack, so a change there has to change this too. */
const expectedTableActions = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:TransactWriteItems',
  'dynamodb:UpdateItem',
];
const functionsWithoutTable: readonly FunctionName[] = ['health'];
const tableUsers = functionNames.filter((name) => !functionsWithoutTable.includes(name));
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

const resourcesOfType = (type: string): Record<string, Resource> =>
  template.findResources(type) as Record<string, Resource>;

const onlyResourceOfType = (type: string): [string, Resource] => {
  const entries = Object.entries(resourcesOfType(type));
  expect(entries).toHaveLength(1);
  const [entry] = entries;
  if (!entry) throw new Error(`No ${type} in the template`);
  return entry;
};

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
    for (const inline of (Policies ?? []) as { PolicyDocument: PolicyDocument }[]) {
      documents.push(inline.PolicyDocument);
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
  const cdkJson = JSON.parse(
    readFileSync(fileURLToPath(new URL('../../cdk.json', import.meta.url)), 'utf8'),
  ) as {
    context: Record<string, unknown>;
  };
  app = new App({ context: { ...cdkJson.context, [ASSET_RESOURCE_METADATA_ENABLED_CONTEXT]: true } });
  stack = new NoLostUpdatesStack(app, 'TestStack', { jwtIssuer, jwtAudience });
  template = Template.fromStack(stack);
}, 120_000);

afterAll(() => {
  rmSync(app.outdir, { recursive: true, force: true });
});

describe('HTTP API routes', () => {
  it('declares exactly the route keys of the route table', () => {
    const routeKeys = Object.values(resourcesOfType('AWS::ApiGatewayV2::Route')).map(
      (resource) => resource.Properties.RouteKey,
    );

    expect(routeKeys.sort()).toEqual(routes.map(routeKeyOf).sort());
  });

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

  it('validates JWTs against the issuer and audience passed in', () => {
    const [, authorizer] = onlyResourceOfType('AWS::ApiGatewayV2::Authorizer');

    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: jwtIssuer, Audience: [jwtAudience] },
    });
  });

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
  it('creates exactly one function per function name', () => {
    const functionIds = Object.keys(resourcesOfType('AWS::Lambda::Function'));

    expect(functionIds.sort()).toEqual(functionNames.map((name) => logicalIdOf(functionOf(name))).sort());
  });

  it.each(functionNames)('bundles %s as an ES module with a source map and a require shim', (name) => {
    const assetDir = assetDirOf(name);

    const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');

    expect(bundle).toMatch(/^import \{ createRequire as topLevelCreateRequire \} from 'node:module';/);
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    expect(existsSync(join(assetDir, 'index.js'))).toBe(false);
  });

  it('loads the health bundle as an ES module whose handler answers 200, and serves the OpenAPI document', async () => {
    const bundleUrl = pathToFileURL(join(assetDirOf('health'), 'index.mjs')).href;

    const { handler } = (await import(bundleUrl)) as {
      handler: (event: { routeKey: string }) => Promise<{ statusCode: number; body: string }>;
    };
    const health = await handler({ routeKey: 'GET /health' });
    const document = await handler({ routeKey: 'GET /openapi.json' });

    expect([health.statusCode, JSON.parse(health.body)]).toEqual([200, { status: 'ok' }]);
    expect([document.statusCode, JSON.parse(document.body).openapi]).toEqual([200, '3.1.0']);
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

  it.each(functionNames)('gives %s the table name and source maps in its environment', (name) => {
    const fn = resourceById(logicalIdOf(functionOf(name)));

    expect(fn.Properties.Environment).toEqual({
      Variables: { TABLE_NAME: { Ref: logicalIdOf(stack.table) }, NODE_OPTIONS: '--enable-source-maps' },
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

  it('is retained when the stack is deleted or the table replaced', () => {
    const [, table] = onlyResourceOfType('AWS::DynamoDB::GlobalTable');

    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('IAM', () => {
  it('has no wildcard action in any statement', () => {
    const actions = allStatements().flatMap(actionsOf);

    const wildcards = actions.filter((action) => action.includes('*'));

    expect(actions.length).toBeGreaterThan(0);
    expect(wildcards).toEqual([]);
  });

  it.each(tableUsers)('grants %s exactly the table actions, on the table and its indexes', (name) => {
    const tableArn = { 'Fn::GetAtt': [logicalIdOf(stack.table), 'Arn'] };

    const statements = statementsOfRole(roleIdOf(name));

    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement?.Effect).toBe('Allow');
    expect(statement && [...actionsOf(statement)].sort()).toEqual(expectedTableActions);
    expect(statement?.Resource).toEqual([tableArn, { 'Fn::Join': ['', [tableArn, '/index/*']] }]);
  });

  it.each(functionsWithoutTable)('grants %s no DynamoDB action', (name) => {
    const actions = statementsOfRole(roleIdOf(name)).flatMap(actionsOf);

    expect(actions.filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
  });
});
