import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct, IConstruct } from 'constructs';
import { tableSpec } from '../lib/db/table-spec';
import { roles } from '../lib/domain/roles';
import { metricNames, metricsNamespace, serviceName } from '../lib/observability';
import { type FunctionName, functionNames, functionTableAccess, routeKeyOf, routes } from '../lib/routes';

/** An identity provider outside the stack whose JWTs the API trusts instead of its own user pool. */
export interface ExternalIdentity {
  /** Issuer (`iss`); an `https://` URL. */
  readonly issuer: string;
  /** Audience (`aud`, or `client_id` of an access token). */
  readonly audience: string;
}

/** Stage throttling of the HTTP API: steady requests per second and the burst above it. */
export interface ApiThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface NoLostUpdatesStackProps extends StackProps {
  /** Trust this provider's JWTs; without it the stack creates a Cognito user pool and trusts that. */
  readonly identity?: ExternalIdentity;
  /** Default: {@link defaultThrottle}. */
  readonly throttle?: ApiThrottle;
  /** Concurrency reserved (and capped) per table function; default: none, see the README. */
  readonly reservedConcurrency?: number;
  /** Where alarms are mailed, besides the topic (`AlarmTopicArn`) anyone may subscribe to. */
  readonly alarmEmail?: string;
  /** The web app's build; deployed when the folder exists. Default: `web/dist`. */
  readonly webAppDir?: string;
}

/** Enough for a team's interactive use; a runaway client meets 429s before the table's bill does. */
export const defaultThrottle: ApiThrottle = { rateLimit: 50, burstLimit: 100 };

/** The repository root: entries, lock file and tsconfig are resolved from here, whatever the cwd. */
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** The CDK context keys the app reads; see `identityFromContext` and cdk/app.ts. */
type Context = (key: string) => unknown;

const contextString = (context: Context, key: string): string | undefined => {
  const value = context(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`CDK context '${key}' must be a non-empty string`);
  }
  return value.trim();
};

/**
 * The identity provider from the context: `-c jwtIssuer=… -c jwtAudience=…` name an
 * external one; neither, the stack's own user pool. One without the other is refused, so a
 * deploy never trusts a half-configured provider (or none) by accident.
 */
export const identityFromContext = (context: Context): ExternalIdentity | undefined => {
  const issuer = contextString(context, 'jwtIssuer');
  const audience = contextString(context, 'jwtAudience');
  if (issuer === undefined && audience === undefined) return undefined;
  if (issuer === undefined || audience === undefined) {
    throw new Error(
      `CDK context: jwtIssuer and jwtAudience go together (got only ${issuer ? 'jwtIssuer' : 'jwtAudience'}). ` +
        'Pass both (-c jwtIssuer=https://issuer.example.com/ -c jwtAudience=my-api) to trust an external ' +
        'identity provider, or neither to use the Cognito user pool the stack creates.',
    );
  }
  // API Gateway accepts only an https issuer; say so at synth rather than at deploy.
  if (!issuer.startsWith('https://')) {
    throw new Error(`CDK context 'jwtIssuer' must be an https:// URL, got '${issuer}'`);
  }
  return { issuer, audience };
};

/**
 * The bundle is ESM (`index.mjs`); CommonJS dependencies inlined by esbuild may still call
 * `require` for Node built-ins, which ESM lacks, so the banner provides one.
 */
export const esmRequireBanner =
  "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);";

/**
 * The esbuild settings of every function bundle, shared with the bundle measurement
 * (`npm run bundles`), so what is measured is what deploys. No source map: it was measured
 * to cost cold start and upload size for stack traces the structured log already locates
 * (README, Bundles).
 */
export const bundlingOptions = {
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: esmRequireBanner,
  minify: true,
  sourceMap: false,
  target: 'node22',
  // Synth output stays quiet unless esbuild has something to warn about.
  logLevel: LogLevel.WARNING,
  // Bundle the AWS SDK v3 instead of the runtime's copy: the version the tests ran against, tree-shaken.
  externalModules: [],
} as const;

const pascalCase = (name: string): string =>
  name
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');

/**
 * Acknowledges a cdk-nag (AwsSolutions) finding on `scope` and everything under it, with
 * the reason it is accepted; `RuleId[FindingId]` narrows it to one finding.
 */
const acknowledge = (scope: IConstruct, ...findings: { id: string; reason: string }[]): void => {
  Validations.of(scope).acknowledge(...findings);
};

/** The JSON line API Gateway writes per request: who asked what, what it answered, how fast. */
export const accessLogFields = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  caller: '$context.authorizer.claims.sub',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  responseLength: '$context.responseLength',
  authorizerError: '$context.authorizer.error',
  integrationError: '$context.integrationErrorMessage',
} as const;

/** Headers the web app sends and reads across origins. */
const corsAllowHeaders = [
  'authorization',
  'content-type',
  'if-match',
  'if-none-match',
  'idempotency-key',
  'lock-token',
];
const corsExposeHeaders = ['etag', 'location', 'idempotent-replayed', 'retry-after'];

/**
 * The deployed backend: one table built from the table spec, one Lambda per function of
 * the route table with exactly the table access it declares, an HTTP API whose routes and
 * authorisation come from the route table, the sign-in (its own user pool unless an
 * external provider is named), the web app, and alarms and a dashboard. cdk-nag
 * (AwsSolutions) checks it on every synth; each suppression says why.
 */
export class NoLostUpdatesStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly api: apigwv2.HttpApi;
  readonly functions: ReadonlyMap<FunctionName, NodejsFunction>;
  readonly userPool: cognito.UserPool | undefined;
  readonly userPoolClient: cognito.UserPoolClient | undefined;
  readonly alarmTopic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: NoLostUpdatesStackProps = {}) {
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
      // Business data outlives any stack: deleting or replacing the stack must not drop it,
      // and nobody deletes the table by a slip in the console either.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });

    const functions = new Map<FunctionName, NodejsFunction>();
    for (const name of functionNames) {
      functions.set(name, this.tableFunction(name, props.reservedConcurrency));
    }
    this.functions = functions;

    const web = this.webApp(props.webAppDir ?? join(projectRoot, 'web', 'dist'));

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'No Lost Updates HTTP API; routes generated from lib/routes.ts',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [web.url],
        allowMethods: [apigwv2.CorsHttpMethod.ANY],
        allowHeaders: corsAllowHeaders,
        exposeHeaders: corsExposeHeaders,
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? defaultThrottle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
      },
    });
    const apiUrl = stage.url.replace(/\/$/, '');

    const { issuer, audience, pool, client } = this.identity(props.identity);
    this.userPool = pool;
    this.userPoolClient = client;
    const jwtAuthorizer = new HttpJwtAuthorizer('JwtAuthorizer', issuer, { jwtAudience: [audience] });
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
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: integrationOf(route.fn),
        // Public routes say so explicitly, so a missing authorizer is never an accident.
        authorizer: route.access === 'public' ? noAuthorizer : jwtAuthorizer,
      });
      if (route.access === 'public' && created) {
        acknowledge(created, {
          id: 'AwsSolutions-APIG4',
          reason: `${routeKeyOf(route)} is public by design (route table: access 'public'): it reads no data.`,
        });
      }
    }

    web.deploy({
      apiUrl,
      userPoolId: this.userPool?.userPoolId,
      clientId: this.userPoolClient?.userPoolClientId,
    });

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'No Lost Updates alarms',
      enforceSSL: true,
    });
    acknowledge(this.alarmTopic, {
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry no business data; CloudWatch cannot publish to a topic under the AWS-managed SNS key.',
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    this.alarms = this.observability(stage);

    new CfnOutput(this, 'ApiUrl', { value: apiUrl, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'WebAppUrl', { value: web.url, description: 'The web app (CloudFront)' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'DynamoDB table name' });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarmTopic.topicArn,
      description: 'SNS topic of the alarms',
    });
    new CfnOutput(this, 'JwtIssuer', { value: issuer, description: 'Issuer the API trusts' });
    if (this.userPool && this.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', {
        value: this.userPool.userPoolId,
        description: 'Cognito user pool',
      });
      new CfnOutput(this, 'UserPoolClientId', {
        value: this.userPoolClient.userPoolClientId,
        description: 'Cognito app client (the JWT audience)',
      });
    }
  }

  /**
   * One function with its own log group and a role holding exactly the table access its
   * route-table entry declares: item actions on the table, Query on the indexes it reads.
   */
  private tableFunction(name: FunctionName, reservedConcurrency: number | undefined): NodejsFunction {
    const constructId = `${pascalCase(name)}Function`;
    const logGroup = new logs.LogGroup(this, `${constructId}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      // Logs expire anyway; unlike the table they are not worth an orphan after the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role instead of the managed AWSLambdaBasicExecutionRole: writes to its own log group only.
    const role = new iam.Role(this, `${constructId}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${name} function`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const access = functionTableAccess[name];
    const fn = new NodejsFunction(this, constructId, {
      entry: join(projectRoot, 'functions', `${name}.ts`),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(access && reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: reservedConcurrency }
        : {}),
      environment: {
        TABLE_NAME: this.table.tableName,
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
      },
      bundling: { ...bundlingOptions, mainFields: [...bundlingOptions.mainFields], externalModules: [] },
    });
    if (access) {
      const indexArn = (index: string) => `${this.table.tableArn}/index/${index}`;
      role.addToPolicy(
        new iam.PolicyStatement({ actions: [...access.table], resources: [this.table.tableArn] }),
      );
      if (access.indexes.length > 0) {
        role.addToPolicy(
          new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: access.indexes.map(indexArn) }),
        );
      }
    }
    acknowledge(role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray accepts trace segments only on resource * (the tracing statement CDK adds).',
    });
    acknowledge(fn, {
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is the runtime the bundles are built for (target node22) and tested on.',
    });
    return fn;
  }

  /** The JWT issuer and audience: the external provider's, or this stack's own user pool's. */
  private identity(external: ExternalIdentity | undefined): {
    issuer: string;
    audience: string;
    pool?: cognito.UserPool;
    client?: cognito.UserPoolClient;
  } {
    if (external) return external;
    const pool = new cognito.UserPool(this, 'UserPool', {
      // Users are created by an operator and put into role groups; nobody signs up alone.
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // The users go with the stack; the table, which holds the data, stays.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const role of roles) {
      new cognito.UserPoolGroup(this, `Group${pascalCase(role)}`, {
        userPool: pool,
        groupName: role,
        description: `Role '${role}' (lib/domain/roles.ts)`,
      });
    }
    const client = pool.addClient('WebClient', {
      // A browser app and the CLI: no secret to keep, password sign-in (SRP or direct).
      generateSecret: false,
      authFlows: { userSrp: true, userPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });
    acknowledge(
      pool,
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is offered (TOTP) but not forced, so an operator can create a user and sign in from a script.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus feature plan (threat protection) costs per user; users exist only when an operator creates them.',
      },
      {
        id: 'AwsSolutions-COG3',
        reason:
          'Threat protection needs the paid Plus feature plan; users exist only when an operator creates them.',
      },
    );
    return { issuer: pool.userPoolProviderUrl, audience: client.userPoolClientId, pool, client };
  }

  /**
   * The web app: a private bucket behind CloudFront. Its build (`web/dist`) is deployed when
   * it exists at synth; `config.json` next to it always, so the app finds the API and sign-in.
   */
  private webApp(dir: string) {
    const bucket = new s3.Bucket(this, 'WebBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Only built files live here; the deployment removes them with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const distribution = new cloudfront.Distribution(this, 'WebDistribution', {
      comment: 'No Lost Updates web app',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      },
      // A single-page app: a path the bucket does not have is the app's own route.
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.seconds(0),
      })),
    });
    acknowledge(bucket, {
      id: 'AwsSolutions-S1',
      reason: 'Holds only the public build of the web app; CloudFront is its only reader.',
    });
    acknowledge(
      distribution,
      { id: 'AwsSolutions-CFR1', reason: 'The web app serves every country; no geo restriction is wanted.' },
      {
        id: 'AwsSolutions-CFR2',
        reason: 'Static files only; the API behind it has its own throttling and auth.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason: 'Static files only; the API access log records every data request.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default cloudfront.net certificate (no custom domain) fixes the TLS policy; viewers are redirected to HTTPS.',
      },
    );
    const url = `https://${distribution.distributionDomainName}`;
    const deploy = (config: {
      apiUrl: string;
      userPoolId: string | undefined;
      clientId: string | undefined;
    }) => {
      const sources = [
        ...(existsSync(join(dir, 'index.html')) ? [s3deploy.Source.asset(dir)] : []),
        s3deploy.Source.jsonData('config.json', { ...config, region: this.region }),
      ];
      new s3deploy.BucketDeployment(this, 'WebDeployment', {
        sources,
        destinationBucket: bucket,
        distribution,
        distributionPaths: ['/*'],
        memoryLimit: 256,
        // The files go with the stack, so the bucket is empty when it is deleted.
        retainOnDelete: false,
      });
      // The deployment's handler is one singleton function per stack, created by aws-cdk-lib.
      for (const handler of this.node.children.filter((child) =>
        child.node.id.startsWith('Custom::CDKBucketDeployment'),
      )) {
        acknowledge(
          handler,
          {
            id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
            reason:
              'CDK’s BucketDeployment handler logs under AWSLambdaBasicExecutionRole; the API functions have their own roles.',
          },
          ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map(
            (action) => ({
              id: `AwsSolutions-IAM5[Action::${action}]`,
              reason:
                'CDK’s BucketDeployment handler reads the asset and replaces the web bucket’s objects with it.',
            }),
          ),
          {
            id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
            reason:
              'The web app’s asset is an object in the CDK bootstrap bucket, whose key is known only at deploy.',
          },
          {
            id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
            reason: 'The deployment writes every object of the web bucket, which holds the web app only.',
          },
          {
            id: 'AwsSolutions-IAM5[Resource::*]',
            reason: 'CloudFront invalidations (after each deployment) are authorised on resource * only.',
          },
          {
            id: 'AwsSolutions-L1',
            reason: 'The BucketDeployment handler’s runtime is chosen by aws-cdk-lib, not by this project.',
          },
        );
      }
    };
    return { url, deploy };
  }

  /** Alarms to the topic and one dashboard: API errors and contention, throttling, Lambda errors and duration. */
  private observability(stage: apigwv2.HttpStage): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const app = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { service: serviceName },
        statistic: 'Sum',
        period,
        label,
      });
    const requests = stage.metricCount({ period, statistic: 'Sum', label: 'Requests' });
    const serverErrors = stage.metricServerError({ period, statistic: 'Sum', label: '5xx' });
    const rate = (label: string, errors: cloudwatch.IMetric) =>
      new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { errors, requests },
        period,
        label,
      });
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number) => {
      const created = new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.alarmTopic));
      return created;
    };
    const contention = app(metricNames.writeContention, 'WRITE_CONTENTION answers');
    const throttled = app(metricNames.throttled, 'THROTTLED answers');
    const alarms = [
      alarm(
        'ServerErrorRateAlarm',
        'More than 1 % of API requests answered 5xx over 5 minutes',
        rate('5xx %', serverErrors),
        1,
      ),
      alarm(
        'WriteContentionRateAlarm',
        'More than 1 % of API requests answered 409 WRITE_CONTENTION over 5 minutes',
        rate('WRITE_CONTENTION %', contention),
        1,
      ),
      alarm(
        'ThrottledAlarm',
        'Requests answered 503 THROTTLED after the retries: DynamoDB is throttling',
        throttled,
        0,
      ),
    ];
    for (const [name, fn] of this.functions) {
      const id = pascalCase(name);
      alarms.push(
        alarm(
          `${id}ErrorsAlarm`,
          `The ${name} function failed (Lambda errors)`,
          fn.metricErrors({ period, statistic: 'Sum' }),
          0,
        ),
        alarm(
          `${id}DurationAlarm`,
          `The ${name} function's p99 duration is above 5 s (half its timeout)`,
          fn.metricDuration({ period, statistic: 'p99' }),
          5000,
        ),
      );
    }
    const perFunction = (metric: (fn: NodejsFunction) => cloudwatch.IMetric) =>
      [...this.functions.values()].map(metric);
    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-operations`,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'API requests and errors',
            left: [
              requests,
              stage.metricClientError({ period, statistic: 'Sum', label: '4xx' }),
              serverErrors,
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'API latency (p50, p99)',
            left: [
              stage.metricLatency({ period, statistic: 'p50' }),
              stage.metricLatency({ period, statistic: 'p99' }),
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Conflicts, replays, lock refusals',
            left: [
              app(metricNames.conflict, 'Conflicts (409/412)'),
              app(metricNames.replay, 'Replays'),
              app(metricNames.lockRefused, 'Lock refusals (423)'),
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Contention and throttling',
            left: [
              app(metricNames.contentionRetry, 'Retries: contention'),
              app(metricNames.throttlingRetry, 'Retries: throttling'),
              contention,
              throttled,
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Lambda errors',
            left: perFunction((fn) => fn.metricErrors({ period, statistic: 'Sum' })),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Lambda duration p99',
            left: perFunction((fn) => fn.metricDuration({ period, statistic: 'p99' })),
            width: 12,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 })],
      ],
    });
    return alarms;
  }
}
