import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { accountUniqueName, acknowledge } from './common';

/**
 * The CDK bootstrap bucket's ARN as cdk-nag writes it: what the stack knows at synth
 * (an account and region given as its `env`), the rest as `<AWS::…>` pseudo parameters.
 */
const bootstrapAssetsArn = (stack: Stack): string => {
  const known = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const bucket = `cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${known(stack.account, 'AccountId')}-${known(stack.region, 'Region')}`;
  return `arn:${known(stack.partition, 'Partition')}:s3:::${bucket}`;
};

/** What the web app reads from `config.json` to find the API and its sign-in. */
export interface WebAppConfig {
  readonly apiUrl: string;
  readonly userPoolId: string | undefined;
  readonly clientId: string | undefined;
}

export interface WebAppProps {
  /** The web app's build (`npm run build:web`); deployed when it has an `index.html`. */
  readonly buildDir: string;
}

/**
 * The web app: a private bucket behind CloudFront. `publish` deploys the build and a
 * `config.json` beside it, which says where the API and the sign-in are; both are known only
 * once the API exists, and the API's CORS needs this app's URL first.
 */
export class WebApp extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<distribution>.cloudfront.net`. */
  readonly url: string;
  private readonly buildDir: string;

  constructor(scope: Construct, id: string, props: WebAppProps) {
    super(scope, id);
    this.buildDir = props.buildDir;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Only built files live here; the deployment removes them with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
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
      },
      // A single-page app: a path the bucket does not have is the app's own route.
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.seconds(0),
      })),
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

  /** Deploys the build, when there is one, and `config.json`, then invalidates the distribution's cache. */
  publish(config: WebAppConfig): s3deploy.BucketDeployment {
    const stack = Stack.of(this);
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [
        ...(existsSync(join(this.buildDir, 'index.html')) ? [s3deploy.Source.asset(this.buildDir)] : []),
        s3deploy.Source.jsonData('config.json', { ...config, region: stack.region }),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
      // The files go with the stack, so the bucket is empty when it is deleted.
      retainOnDelete: false,
    });
    // The deployment's handler is one singleton function per stack, created by aws-cdk-lib.
    for (const handler of stack.node.children.filter((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    )) {
      acknowledge(
        handler,
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            'CDK’s BucketDeployment handler logs under AWSLambdaBasicExecutionRole; the API functions have their own roles.',
        },
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
    return deployment;
  }
}
