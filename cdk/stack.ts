import { join } from 'node:path';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { FunctionName } from '../lib/routes';
import { projectRoot } from './common';
import { ApiFunctions } from './functions';
import { type ApiThrottle, HttpApi } from './http-api';
import { type ExternalIdentity, Identity } from './identity';
import { LiveChannel } from './live';
import { Operations } from './operations';
import { DataTable } from './table';
import { WebApp } from './web-app';

export interface NoLostUpdatesStackProps extends StackProps {
  /** Trust this provider's JWTs; without it the stack creates a Cognito user pool and trusts that. */
  readonly identity?: ExternalIdentity;
  /** Default: `defaultThrottle` (cdk/http-api.ts). */
  readonly throttle?: ApiThrottle;
  /** Concurrency reserved (and capped) per table function; default: none (docs/operations.md). */
  readonly reservedConcurrency?: number;
  /** Where alarms are mailed, besides the topic (`AlarmTopicArn`) anyone may subscribe to. */
  readonly alarmEmail?: string;
  /** The web app's build; deployed when the folder has an `index.html`. Default: `web/dist`. */
  readonly webAppDir?: string;
}

/**
 * The names of account- and region-wide things start with the stack's name, and some add the
 * region, within limits as short as 64 characters (an origin access control's). CloudFormation
 * allows 128; CDK checks the characters.
 */
const longestStackName = 40;

/**
 * The deployed backend, wired from its parts: the table; one Lambda function per function of
 * the route table with exactly the table access it declares; who signs in (the stack's own
 * user pool unless an external provider is named); the web app; the HTTP API, whose routes
 * come from the route table; and operations: alarms to a topic, and a dashboard. cdk-nag
 * (AwsSolutions) checks it on every synth; each acknowledgement says why, beside what it is for.
 */
export class NoLostUpdatesStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly api: apigwv2.HttpApi;
  readonly functions: ReadonlyMap<FunctionName, NodejsFunction>;
  readonly userPool: cognito.UserPool | undefined;
  readonly userPoolClient: cognito.UserPoolClient | undefined;
  readonly live: LiveChannel;
  readonly alarmTopic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: NoLostUpdatesStackProps = {}) {
    super(scope, id, props);
    if (this.stackName.length > longestStackName) {
      throw new Error(
        `The stack name is at most ${longestStackName} characters (the names derived from it have limits); got '${this.stackName}'`,
      );
    }
    const { table } = new DataTable(this);
    this.table = table;

    const functions = new ApiFunctions(this, 'Functions', {
      table,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrency: props.reservedConcurrency } : {}),
    });
    this.functions = functions.functions;

    const identity = new Identity(this, 'Identity', props.identity ? { external: props.identity } : {});
    this.userPool = identity.userPool;
    this.userPoolClient = identity.userPoolClient;

    // Changes, locks and presence pushed to open pages, from the table's stream.
    this.live = new LiveChannel(this, 'Live', {
      table,
      issuer: identity.issuer,
      audience: identity.audience,
    });

    const web = new WebApp(this, 'Web', {
      buildDir: props.webAppDir ?? join(projectRoot, 'web', 'dist'),
      ...(identity.signInOrigin ? { connectTo: [identity.signInOrigin] } : {}),
    });

    const api = new HttpApi(this, 'Api', {
      functions: this.functions,
      issuer: identity.issuer,
      audience: identity.audience,
      allowOrigin: web.url,
      ...(props.throttle ? { throttle: props.throttle } : {}),
    });
    this.api = api.api;

    web.publish({
      apiUrl: api.url,
      liveUrl: this.live.url,
      userPoolId: identity.userPool?.userPoolId,
      clientId: identity.userPoolClient?.userPoolClientId,
    });

    const operations = new Operations(this, 'Operations', {
      ...(props.alarmEmail !== undefined ? { alarmEmail: props.alarmEmail } : {}),
      api,
      table,
      functions: [
        ...[...functions.byName].map(([name, created]) => ({
          name,
          kind: 'api' as const,
          fn: created.fn,
          logGroup: created.logGroup,
        })),
        ...[...this.live.functions].map(([name, created]) => ({
          name,
          kind: name === 'live-stream' ? ('stream-consumer' as const) : ('websocket' as const),
          fn: created.fn,
          logGroup: created.logGroup,
        })),
      ],
      failureQueues: [
        {
          name: 'live-failed-changes',
          summary:
            'The live channel gave up on changes of the table’s stream: open pages missed them until they read again',
          queue: this.live.failed,
        },
      ],
    });
    this.alarmTopic = operations.topic;
    this.alarms = operations.alarms;

    new CfnOutput(this, 'ApiUrl', { value: api.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'WebAppUrl', { value: web.url, description: 'The web app (CloudFront)' });
    new CfnOutput(this, 'LiveUrl', {
      value: this.live.url,
      description: 'The live channel (WebSocket; connect with ?token=<JWT>)',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'The DynamoDB table' });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: operations.topic.topicArn,
      description: 'SNS topic of the alarms',
    });
    new CfnOutput(this, 'AlarmDestination', {
      value: operations.alarmDestination,
      description: 'Who receives the alarms',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${operations.dashboard.dashboardName}`,
      description: 'The operations dashboard (CloudWatch)',
    });
    new CfnOutput(this, 'JwtIssuer', { value: identity.issuer, description: 'Issuer the API trusts' });
    if (identity.userPool && identity.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', {
        value: identity.userPool.userPoolId,
        description: 'Cognito user pool',
      });
      new CfnOutput(this, 'UserPoolClientId', {
        value: identity.userPoolClient.userPoolClientId,
        description: 'Cognito app client (the JWT audience)',
      });
    }
  }
}
