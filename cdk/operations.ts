import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { metricNames, metricsNamespace, serviceName } from '../lib/observability';
import { accountUniqueName, pascalCase } from './common';

/** A Lambda function the operator is told about: its errors and duration. */
export interface WatchedFunction {
  readonly name: string;
  readonly fn: lambda.IFunction;
}

export interface OperationsProps {
  /** Who is mailed the alarms, besides the topic (`AlarmTopicArn`) anyone may subscribe to. */
  readonly alarmEmail?: string;
  readonly api: { readonly stage: apigwv2.IHttpStage };
  /** Each is alarmed on and graphed; a function added later joins this list. */
  readonly functions: readonly WatchedFunction[];
}

/**
 * What an operator is told and shown: alarms to an SNS topic (mailed to `alarmEmail`, if
 * given) on API errors and contention, throttling, Lambda errors and duration, and one dashboard.
 */
export class Operations extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'No Lost Updates alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const period = Duration.minutes(5);
    const { stage } = props.api;
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
      created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
    };
    const contention = app(metricNames.writeContention, 'WRITE_CONTENTION answers');
    const throttled = app(metricNames.throttled, 'THROTTLED answers');
    alarm(
      'ServerErrorRateAlarm',
      'More than 1 % of API requests answered 5xx over 5 minutes',
      rate('5xx %', serverErrors),
      1,
    );
    alarm(
      'WriteContentionRateAlarm',
      'More than 1 % of API requests answered 409 WRITE_CONTENTION over 5 minutes',
      rate('WRITE_CONTENTION %', contention),
      1,
    );
    alarm(
      'ThrottledAlarm',
      'Requests answered 503 THROTTLED after the retries: DynamoDB is throttling',
      throttled,
      0,
    );
    for (const { name, fn } of props.functions) {
      const id = pascalCase(name);
      alarm(
        `${id}ErrorsAlarm`,
        `The ${name} function failed (Lambda errors)`,
        fn.metricErrors({ period, statistic: 'Sum' }),
        0,
      );
      alarm(
        `${id}DurationAlarm`,
        `The ${name} function's p99 duration is above 5 s (half its timeout)`,
        fn.metricDuration({ period, statistic: 'p99' }),
        5000,
      );
    }
    const perFunction = (metric: (fn: lambda.IFunction) => cloudwatch.IMetric) =>
      props.functions.map(({ fn }) => metric(fn));
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: accountUniqueName(this, 'operations'),
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
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }
}
