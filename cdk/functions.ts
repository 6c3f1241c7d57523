import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DOCUMENT_FILE, GZIP_FILE } from '../lib/contract/served';
import { metricsNamespace, serviceName } from '../lib/observability';
import { type FunctionName, functionNames, functionTableAccess } from '../lib/routes';
import { acknowledge, logGroupName, pascalCase, projectRoot } from './common';

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

/** How long every log group of the stack keeps its lines (docs/operations.md, Log groups). */
export const logRetention = logs.RetentionDays.ONE_MONTH;

export interface AppFunctionProps {
  /** `functions/<name>.ts`, exporting `handler`; also names the log group and the role's description. */
  readonly name: string;
  readonly environment: Record<string, string>;
  readonly reservedConcurrency?: number;
  /** Files of the project root copied beside the bundle, built before synth (`openapi.json`). */
  readonly bundledFiles?: readonly string[];
}

/**
 * The shell commands that copy built files beside a bundle, each refusing in one sentence
 * when the file was not built.
 */
export const copyCommands = (files: readonly string[], inputDir: string, outputDir: string): string[] =>
  files.map(
    (file) =>
      `test -f "${inputDir}/${file}" || { echo "${file} is not built: run npm run openapi (npm run deploy does)" >&2; exit 1; }; cp "${inputDir}/${file}" "${outputDir}/${file}"`,
  );

/**
 * One of this project's Lambda functions, as every one of them is run: bundled with
 * {@link bundlingOptions}, traced, logging to a log group of its own (kept
 * {@link logRetention}, deleted with the stack), with a role that may write that log group and
 * nothing else until it is granted more. The API's functions are these; so is anything that
 * joins them later, such as a stream consumer.
 */
export class AppFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: logGroupName(this, `functions/${props.name}`),
      retention: logRetention,
      // Logs expire anyway; unlike the table they are not worth an orphan after the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role instead of the managed AWSLambdaBasicExecutionRole: writes to its own log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.name} function`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.fn = new NodejsFunction(this, 'Default', {
      entry: join(projectRoot, 'functions', `${props.name}.ts`),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
      },
      bundling: {
        ...bundlingOptions,
        mainFields: [...bundlingOptions.mainFields],
        externalModules: [],
        ...(props.bundledFiles
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) =>
                  copyCommands(props.bundledFiles ?? [], inputDir, outputDir),
              },
            }
          : {}),
      },
    });
    acknowledge(this.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray accepts trace segments only on resource * (the tracing statement CDK adds).',
    });
    acknowledge(this.fn, {
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is the runtime the bundles are built for (target node22) and tested on.',
    });
  }
}

export interface ApiFunctionsProps {
  readonly table: dynamodb.ITableV2;
  /** Concurrency reserved (and capped) per table function; default: none. */
  readonly reservedConcurrency?: number;
}

/**
 * One function per name of the route table, each with exactly the table access the route
 * table declares for it (`functionTableAccess`): item actions on the table, Query on the
 * indexes it reads, nothing else.
 */
export class ApiFunctions extends Construct {
  readonly byName: ReadonlyMap<FunctionName, AppFunction>;
  /** The Lambda function of each name. */
  readonly functions: ReadonlyMap<FunctionName, NodejsFunction>;

  constructor(scope: Construct, id: string, props: ApiFunctionsProps) {
    super(scope, id);
    const { table } = props;
    const byName = new Map<FunctionName, AppFunction>();
    for (const name of functionNames) {
      const access = functionTableAccess[name];
      const created = new AppFunction(this, pascalCase(name), {
        name,
        environment: { TABLE_NAME: table.tableName },
        // The health function serves the OpenAPI document as built: its file and its gzip.
        ...(name === 'health' ? { bundledFiles: [DOCUMENT_FILE, GZIP_FILE] } : {}),
        ...(access && props.reservedConcurrency !== undefined
          ? { reservedConcurrency: props.reservedConcurrency }
          : {}),
      });
      if (access) {
        created.role.addToPolicy(
          new iam.PolicyStatement({ actions: [...access.table], resources: [table.tableArn] }),
        );
        if (access.indexes.length > 0) {
          created.role.addToPolicy(
            new iam.PolicyStatement({
              actions: ['dynamodb:Query'],
              resources: access.indexes.map((index) => `${table.tableArn}/index/${index}`),
            }),
          );
        }
      }
      byName.set(name, created);
    }
    this.byName = byName;
    this.functions = new Map([...byName].map(([name, created]) => [name, created.fn]));
  }
}
