import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { tableSpec } from '../lib/db/table-spec';
import { type FunctionName, functionNames, routeKeyOf, routes } from '../lib/routes';

export interface NoLostUpdatesStackProps extends StackProps {
  /** Issuer (`iss`) the API Gateway JWT authorizer accepts; an `https://` URL. */
  readonly jwtIssuer: string;
  /** Audience (`aud`) the API Gateway JWT authorizer accepts. */
  readonly jwtAudience: string;
}

/** The repository root: entries, lock file and tsconfig are resolved from here, whatever the cwd. */
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Functions that never touch the table. Everything else gets the table grant, so a new
 * function works by default and this list only ever narrows privileges.
 */
const functionsWithoutTableAccess: ReadonlySet<FunctionName> = new Set<FunctionName>(['health']);

/**
 * The only DynamoDB actions a function may call. TransactWriteItems is authorised per
 * contained action, so the item actions it wraps are listed too; no scans. BatchGetItem
 * reads the key records of a keyed multi-part request in one request.
 */
const tableActions = [
  'dynamodb:BatchGetItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:TransactWriteItems',
];

/**
 * The bundle is ESM (`index.mjs`); CommonJS dependencies inlined by esbuild may still call
 * `require` for Node built-ins, which ESM lacks, so the banner provides one.
 */
const esmRequireBanner =
  "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);";

const pascalCase = (name: string): string =>
  name
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');

/**
 * The deployed backend: one table built from the table spec, one Lambda per function of
 * the route table, and an HTTP API whose routes and authorisation come from the route table.
 */
export class NoLostUpdatesStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly api: apigwv2.HttpApi;
  readonly functions: ReadonlyMap<FunctionName, NodejsFunction>;

  constructor(scope: Construct, id: string, props: NoLostUpdatesStackProps) {
    super(scope, id, props);

    this.table = new dynamodb.TableV2(this, tableSpec.id, {
      partitionKey: { name: tableSpec.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableSpec.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: tableSpec.ttlAttribute,
      globalSecondaryIndexes: tableSpec.globalIndexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      })),
      // Business data outlives any stack: deleting or replacing the stack must not drop it.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const tableAccess = new iam.PolicyStatement({
      actions: tableActions,
      resources: [this.table.tableArn, `${this.table.tableArn}/index/*`],
    });

    const functions = new Map<FunctionName, NodejsFunction>();
    for (const name of functionNames) {
      const constructId = `${pascalCase(name)}Function`;
      const logGroup = new logs.LogGroup(this, `${constructId}Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        // Logs expire anyway; unlike the table they are not worth an orphan after the stack is gone.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const fn = new NodejsFunction(this, constructId, {
        entry: join(projectRoot, 'functions', `${name}.ts`),
        handler: 'handler',
        projectRoot,
        depsLockFilePath: join(projectRoot, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 512,
        timeout: Duration.seconds(10),
        logGroup,
        environment: {
          TABLE_NAME: this.table.tableName,
          NODE_OPTIONS: '--enable-source-maps',
        },
        bundling: {
          format: OutputFormat.ESM,
          mainFields: ['module', 'main'],
          banner: esmRequireBanner,
          minify: true,
          sourceMap: true,
          // Synth output stays quiet unless esbuild has something to warn about.
          logLevel: LogLevel.WARNING,
          // Bundle the AWS SDK v3 instead of the runtime's copy: the version the tests ran against, tree-shaken.
          externalModules: [],
        },
      });
      if (!functionsWithoutTableAccess.has(name)) fn.addToRolePolicy(tableAccess);
      functions.set(name, fn);
    }
    this.functions = functions;

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'No Lost Updates HTTP API; routes generated from functions/routes.ts',
    });

    const jwtAuthorizer = new HttpJwtAuthorizer('JwtAuthorizer', props.jwtIssuer, {
      jwtAudience: [props.jwtAudience],
    });
    const noAuthorizer = new apigwv2.HttpNoneAuthorizer();

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationOf = (name: FunctionName): HttpLambdaIntegration => {
      const existing = integrations.get(name);
      if (existing) return existing;
      const fn = functions.get(name);
      if (!fn) throw new Error(`Route uses function '${name}', which is not in functionNames`);
      // One invoke permission per function for this API, not one per route: a function's
      // resource policy has a size limit, and the route table only grows.
      const integration = new HttpLambdaIntegration(`${pascalCase(name)}Integration`, fn, {
        scopePermissionToRoute: false,
      });
      integrations.set(name, integration);
      return integration;
    };

    // Route keys are unique in API Gateway; a duplicate in the table is rejected here with its key.
    const routeKeys = routes.map(routeKeyOf);
    const duplicate = routeKeys.find((key, index) => routeKeys.indexOf(key) !== index);
    if (duplicate) throw new Error(`Duplicate route in the route table: ${duplicate}`);

    for (const route of routes) {
      this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: integrationOf(route.fn),
        // Public routes say so explicitly, so a missing authorizer is never an accident.
        authorizer: route.access === 'public' ? noAuthorizer : jwtAuthorizer,
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'DynamoDB table name' });
  }
}
