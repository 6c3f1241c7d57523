import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { accountUniqueName, acknowledge, logGroupName } from './common';
import { logRetention } from './functions';

/**
 * The Content-Security-Policy of the web app: its own scripts and styles only (Vite emits
 * no inline ones), the `data:,` favicon, and requests to itself (`config.json`) and to
 * `connectTo` (the API, the sign-in). No frames, no plugins, no form posts, no `<base>`.
 */
const contentSecurityPolicy = (connectTo: readonly string[]): string =>
  Object.entries({
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'", ...connectTo],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  })
    .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
    .join('; ');

/**
 * The CDK bootstrap bucket's ARN as cdk-nag writes it: what the stack knows at synth
 * (an account and region given as its `env`), the rest as `<AWS::…>` pseudo parameters.
 */
const bootstrapAssetsArn = (stack: Stack): string => {
  const known = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const bucket = `cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${known(stack.account, 'AccountId')}-${known(stack.region, 'Region')}`;
  return `arn:${known(stack.partition, 'Partition')}:s3:::${bucket}`;
};

/** What the web app reads from `config.json` to find the API, its live channel and its sign-in. */
export interface WebAppConfig {
  readonly apiUrl: string;
  /** `wss://…`: the live channel. */
  readonly liveUrl: string;
  readonly userPoolId: string | undefined;
  readonly clientId: string | undefined;
}

export interface WebAppProps {
  /** The web app's build (`npm run build:web`, which `npm run deploy` runs first). */
  readonly buildDir: string;
  /** Origins the app sends requests to besides its own and the API's (the sign-in's). */
  readonly connectTo?: readonly string[];
}

/**
 * A role for CDK's BucketDeployment handler that narrows the CloudFront rights it adds on
 * resource `*` to the one distribution it invalidates. The handler adds its statements to
 * whatever role it is given, so the narrowing happens as they are added.
 */
class DeploymentRole extends iam.Role {
  private readonly distributionArn: string;

  constructor(scope: Construct, id: string, distribution: cloudfront.IDistribution) {
    super(scope, id, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Copies the web app into its bucket and invalidates its distribution',
    });
    this.distributionArn = distribution.distributionArn;
  }

  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const cloudFrontOnAll =
      statement.actions.every((action) => action.startsWith('cloudfront:')) &&
      statement.resources.includes('*');
    return super.addToPrincipalPolicy(
      cloudFrontOnAll
        ? new iam.PolicyStatement({ actions: statement.actions, resources: [this.distributionArn] })
        : statement,
    );
  }
}

/**
 * The web app: a private bucket behind CloudFront with security headers on every answer.
 * `publish` deploys the build and a `config.json` beside it, which says where the API and
 * the sign-in are; both are known only once the API exists, and the API's CORS needs this
 * app's URL first.
 */
export class WebApp extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  /** `https://<distribution>.cloudfront.net`. */
  readonly url: string;
  private readonly buildDir: string;

  constructor(scope: Construct, id: string, props: WebAppProps) {
    super(scope, id);
    this.buildDir = props.buildDir;
    const { region } = Stack.of(this);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Only built files live here; the deployment removes them with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      responseHeadersPolicyName: accountUniqueName(this, 'web-headers'),
      comment: 'No Lost Updates web app: security headers',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        contentSecurityPolicy: {
          // The API's exact origin would close a cycle (its CORS names this distribution,
          // whose headers would name the API), so any API Gateway API of this region.
          contentSecurityPolicy: contentSecurityPolicy([
            `https://*.execute-api.${region}.amazonaws.com`,
            // The live channel: API Gateway's WebSocket API, of this region too.
            `wss://*.execute-api.${region}.amazonaws.com`,
            ...(props.connectTo ?? []),
          ]),
          override: true,
        },
      },
    });
    // Origin access controls are named account-wide; CDK's default name is the same in every region.
    const originAccessControl = new cloudfront.S3OriginAccessControl(this, 'OriginAccess', {
      originAccessControlName: accountUniqueName(this, 'web'),
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'No Lost Updates web app',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket, { originAccessControl }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: this.headers,
      },
      // No error pages: the app's routes are in the hash (#/orders/…), so every path the
      // browser asks for is a file, and a missing one is an honest error, not index.html.
    });
    acknowledge(this.bucket, {
      id: 'AwsSolutions-S1',
      reason: 'Holds only the public build of the web app; CloudFront is its only reader.',
    });
    acknowledge(
      this.distribution,
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
    this.url = `https://${this.distribution.distributionDomainName}`;
  }

  /**
   * Deploys the build, when there is one, and `config.json`, then invalidates the
   * distribution's cache. Without a build only `config.json` goes, and synth says so.
   */
  publish(config: WebAppConfig): s3deploy.BucketDeployment {
    const stack = Stack.of(this);
    const built = existsSync(join(this.buildDir, 'index.html'));
    if (!built) {
      Annotations.of(this).addWarningV2(
        'no-lost-updates:web-app-not-built',
        `No web app build in ${this.buildDir}: only config.json is deployed, and the app's URL answers 403. ` +
          '`npm run deploy` builds it first.',
      );
    }
    const logGroup = new logs.LogGroup(this, 'DeploymentLogs', {
      logGroupName: logGroupName(this, 'web-deployment'),
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role, as the API's functions have: its own log group, not AWSLambdaBasicExecutionRole.
    const role = new DeploymentRole(this, 'DeploymentRole', this.distribution);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [
        ...(built ? [s3deploy.Source.asset(this.buildDir)] : []),
        s3deploy.Source.jsonData('config.json', { ...config, region: stack.region }),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
      role,
      logGroup,
      // The files go with the stack, so the bucket is empty when it is deleted.
      retainOnDelete: false,
    });
    acknowledge(
      role,
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          'CDK’s BucketDeployment handler reads the asset and replaces the web bucket’s objects with it.',
      })),
      {
        id: `AwsSolutions-IAM5[Resource::${bootstrapAssetsArn(stack)}/*]`,
        reason:
          'The web app’s asset is an object in the CDK bootstrap bucket, whose key is known only at deploy.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
        reason: 'The deployment writes every object of the web bucket, which holds the web app only.',
      },
    );
    // The handler is one singleton function per stack, created by aws-cdk-lib beside this construct.
    for (const handler of stack.node.children.filter((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    )) {
      acknowledge(handler, {
        id: 'AwsSolutions-L1',
        reason: 'The BucketDeployment handler’s runtime is chosen by aws-cdk-lib, not by this project.',
      });
    }
    return deployment;
  }
}
