import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { metricNames, metricsNamespace, serviceName } from '../lib/observability';
import { functionTableAccess } from '../lib/routes';
import { accountUniqueName, pascalCase, regionUniqueName } from './common';

/** Every alarm and graph reads 5-minute periods. */
const period = Duration.minutes(5);

/**
 * A Lambda function the operator is told about: its errors, throttles and duration, and
 * by its kind what it serves. `api`: its request log lines are counted (5xx by function);
 * `stream-consumer`: how far it lags behind the stream it reads (IteratorAge); `websocket`:
 * a WebSocket API's route or authorizer, nothing beyond the three.
 */
export interface WatchedFunction {
  readonly name: string;
  readonly kind: 'api' | 'stream-consumer' | 'websocket';
  readonly fn: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
}

export interface OperationsProps {
  /** Who is mailed the alarms; without one, synth warns and the `AlarmDestination` output says so. */
  readonly alarmEmail?: string;
  readonly api: { readonly stage: apigwv2.IHttpStage; readonly accessLogs: logs.ILogGroup };
  readonly table: dynamodb.ITableV2;
  /** Each is alarmed on and graphed; a function added later (a stream consumer) joins this list. */
  readonly functions: readonly WatchedFunction[];
  /** Queues where something failed is kept (a consumer's failure destination): any message is an alarm. */
  readonly failureQueues?: readonly {
    readonly name: string;
    readonly summary: string;
    readonly queue: sqs.IQueue;
  }[];
}

/** `a@b.c`, roughly: enough to catch `-c alarmEmail=true` or a name without a domain. */
const emailShape = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The DynamoDB operations the functions send, by their declared table access (a Query on an
 * index is a Query), and the transactions of keyed writes, whose items' actions are declared.
 */
const tableOperations = (): dynamodb.Operation[] => {
  const sent = new Set<string>(['TransactWriteItems']);
  for (const access of Object.values(functionTableAccess)) {
    for (const action of access?.table ?? []) sent.add(action.slice('dynamodb:'.length));
    if (access?.indexes.length) sent.add('Query');
  }
  return Object.values(dynamodb.Operation).filter((operation) => sent.has(operation));
};

/**
 * What an operator is told and shown: an SNS topic with the alarms (mailed to
 * `alarmEmail`, if given), and one dashboard. Every alarm waits for M of N 5-minute periods,
 * and rate alarms count only from a minimum number of events, so one slow or failed request
 * at night pages nobody. Each alarm's runbook line is in docs/operations.md, Alarms.
 *
 * The stack's own metrics (5xx by function, WRITE_CONTENTION, THROTTLED, 401) come from its
 * log groups through metric filters, into a namespace of the stack's own, so two stacks in
 * one region never alarm on each other's requests.
 */
export class Operations extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  /** Where alarms go, in words: the `AlarmDestination` output. */
  readonly alarmDestination: string;
  /** The namespace of the metrics this stack derives from its logs. */
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.namespace = `${metricsNamespace}/${stack.stackName}`;
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'No Lost Updates alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      if (!emailShape.test(props.alarmEmail)) {
        throw new Error(`CDK context 'alarmEmail' must be an email address, got '${props.alarmEmail}'`);
      }
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      this.alarmDestination = `mailed to ${props.alarmEmail} once the subscription mail AWS sends is confirmed`;
    } else {
      this.alarmDestination =
        'NONE: nobody is subscribed to the alarm topic. Deploy again with -c alarmEmail=you@example.com';
      Annotations.of(this).addWarningV2(
        'no-lost-updates:no-alarm-destination',
        'No alarm destination: the alarms reach no one. Deploy with -c alarmEmail=you@example.com ' +
          '(and confirm the mail AWS sends), or subscribe to the AlarmTopicArn output yourself.',
      );
    }

    const { stage, accessLogs } = props.api;
    const apiFunctions = props.functions.filter((watched) => watched.kind === 'api');
    const requests = stage.metricCount({ period, statistic: 'Sum', label: 'Requests' });
    const serverErrors = stage.metricServerError({ period, statistic: 'Sum', label: '5xx' });
    const clientErrors = stage.metricClientError({ period, statistic: 'Sum', label: '4xx' });
    const unauthorized = this.countLines(
      'Unauthorized',
      [accessLogs],
      logs.FilterPattern.stringValue('$.status', '=', '401'),
    );
    // The functions' request log lines (lib/http/observability.ts): `message` "request", `status`, `code`.
    const requestLines = (condition: logs.JsonPattern) =>
      logs.FilterPattern.all(logs.FilterPattern.stringValue('$.message', '=', 'request'), condition);
    const apiLogs = apiFunctions.map((watched) => watched.logGroup);
    const writeContention = this.countLines(
      metricNames.writeContention,
      apiLogs,
      requestLines(logs.FilterPattern.stringValue('$.code', '=', 'WRITE_CONTENTION')),
    );
    const throttled = this.countLines(
      metricNames.throttled,
      apiLogs,
      requestLines(logs.FilterPattern.stringValue('$.code', '=', 'THROTTLED')),
    );
    const systemErrors = props.table.metricSystemErrorsForOperations({
      operations: tableOperations(),
      period,
      statistic: 'Sum',
      label: 'DynamoDB system errors',
    });

    // Answers of the API as a percentage of its requests: what, from how many in a period, above which %.
    const apiRates: [string, string, cloudwatch.IMetric, number, number][] = [
      ['ServerErrorRate', 'More than 1 % of API requests answered 5xx', serverErrors, 5, 1],
      [
        'UnauthorizedRate',
        'More than 10 % of API requests refused 401 (token missing, expired or not trusted)',
        unauthorized,
        10,
        10,
      ],
      [
        'WriteContentionRate',
        'More than 1 % of API requests answered 409 WRITE_CONTENTION',
        writeContention,
        5,
        1,
      ],
      [
        'ThrottledRate',
        'More than 1 % of API requests answered 503 THROTTLED: DynamoDB is throttling',
        throttled,
        5,
        1,
      ],
    ];
    for (const [key, summary, errors, minimum, above] of apiRates) {
      this.alarm(key, summary, {
        metric: guardedRate(`${key} %`, errors, requests, minimum),
        above,
        datapoints: [2, 3],
      });
    }
    this.alarm(
      'TableSystemErrors',
      'DynamoDB answered the table’s requests with system errors (its own 5xx)',
      {
        metric: systemErrors,
        atLeast: 5,
        datapoints: [2, 3],
      },
    );

    const serverErrorsByFunction = new Map<string, cloudwatch.IMetric>();
    for (const watched of props.functions) {
      const { name, fn } = watched;
      const id = pascalCase(name);
      const invocations = fn.metricInvocations({ period, statistic: 'Sum', label: name });
      this.alarm(`${id}Errors`, `The ${name} function failed: an exception, a timeout or a failed start`, {
        metric: fn.metricErrors({ period, statistic: 'Sum', label: name }),
        atLeast: 3,
        datapoints: [2, 3],
      });
      this.alarm(`${id}Throttles`, `Lambda refused to run the ${name} function: concurrency is used up`, {
        metric: fn.metricThrottles({ period, statistic: 'Sum', label: name }),
        atLeast: 5,
        datapoints: [2, 3],
      });
      this.alarm(`${id}Duration`, `The ${name} function's p99 duration is above 5 s (half its timeout)`, {
        metric: new cloudwatch.MathExpression({
          expression: 'IF(FILL(invocations, 0) >= 20, duration, 0)',
          usingMetrics: { invocations, duration: fn.metricDuration({ period, statistic: 'p99' }) },
          period,
          label: `${name} p99 (ms)`,
        }),
        above: 5000,
        datapoints: [3, 3],
      });
      if (watched.kind === 'api') {
        const errors = this.countLines(
          `${id}ServerError`,
          [watched.logGroup],
          requestLines(logs.FilterPattern.numberValue('$.status', '>=', 500)),
        );
        serverErrorsByFunction.set(name, errors.with({ label: name }));
        this.alarm(`${id}ServerErrorRate`, `More than 1 % of the ${name} function's requests answered 5xx`, {
          metric: guardedRate(`${name} 5xx %`, errors, invocations, 5),
          above: 1,
          datapoints: [2, 3],
        });
      } else if (watched.kind === 'stream-consumer') {
        this.alarm(
          `${id}IteratorAge`,
          `The ${name} function is more than a minute behind the stream it reads`,
          {
            metric: fn.metric('IteratorAge', { period, statistic: 'Maximum', label: name }),
            above: 60_000,
            datapoints: [2, 3],
          },
        );
      }
    }

    for (const failures of props.failureQueues ?? []) {
      this.alarm(pascalCase(failures.name), failures.summary, {
        metric: failures.queue.metricApproximateNumberOfMessagesVisible({
          period,
          statistic: 'Maximum',
          label: failures.name,
        }),
        atLeast: 1,
        datapoints: [1, 3],
      });
    }

    const app = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { service: serviceName },
        statistic: 'Sum',
        period,
        label,
      });
    const perFunction = (metric: (fn: lambda.IFunction, name: string) => cloudwatch.IMetric) =>
      props.functions.map((watched) => metric(watched.fn, watched.name));
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: accountUniqueName(this, 'operations'),
      widgets: [
        [
          graph('API requests and errors', [
            requests,
            clientErrors,
            serverErrors,
            unauthorized.with({ label: '401' }),
          ]),
          graph('API latency (p50, p99)', [
            stage.metricLatency({ period, statistic: 'p50' }),
            stage.metricLatency({ period, statistic: 'p99' }),
          ]),
        ],
        [
          graph('5xx answers by function', [...serverErrorsByFunction.values()]),
          graph('Contention and throttling: WRITE_CONTENTION, THROTTLED, DynamoDB system errors', [
            writeContention.with({ label: 'WRITE_CONTENTION' }),
            throttled.with({ label: 'THROTTLED' }),
            systemErrors,
          ]),
        ],
        [
          // EMF metrics of the functions (lib/observability.ts): one namespace per region,
          // shared by every stack of this app in it.
          graph('Conflicts, replays, lock refusals (every stack in the region)', [
            app(metricNames.conflict, 'Conflicts (409/412)'),
            app(metricNames.replay, 'Replays'),
            app(metricNames.lockRefused, 'Lock refusals (423)'),
          ]),
          graph('Retries inside requests (every stack in the region)', [
            app(metricNames.contentionRetry, 'Retries: contention'),
            app(metricNames.throttlingRetry, 'Retries: throttling'),
          ]),
        ],
        [
          graph('Lambda errors and throttles', [
            ...perFunction((fn, name) =>
              fn.metricErrors({ period, statistic: 'Sum', label: `${name} errors` }),
            ),
            ...perFunction((fn, name) =>
              fn.metricThrottles({ period, statistic: 'Sum', label: `${name} throttles` }),
            ),
          ]),
          graph(
            'Lambda duration p99',
            perFunction((fn, name) => fn.metricDuration({ period, statistic: 'p99', label: name })),
          ),
        ],
        [
          new cloudwatch.LogQueryWidget({
            title: 'Latest 5xx answers (function log lines)',
            logGroupNames: apiLogs.map((group) => group.logGroupName),
            queryLines: [
              'fields @timestamp, requestId, route, status, code, error',
              'filter message = "request" and status >= 500',
              'sort @timestamp desc',
              'limit 50',
            ],
            width: 24,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }

  /** A count of the log lines matching `pattern` in `groups`, as a metric of the stack's own namespace. */
  private countLines(metricName: string, groups: readonly logs.ILogGroup[], pattern: logs.IFilterPattern) {
    for (const group of groups) {
      group.addMetricFilter(`${metricName}Filter`, {
        filterPattern: pattern,
        metricNamespace: this.namespace,
        metricName,
        metricValue: '1',
        defaultValue: 0,
      });
    }
    return new cloudwatch.Metric({ namespace: this.namespace, metricName, statistic: 'Sum', period });
  }

  private alarm(
    key: string,
    summary: string,
    rule: { metric: cloudwatch.IMetric; datapoints: [number, number] } & (
      | { above: number; atLeast?: never }
      | { atLeast: number; above?: never }
    ),
  ): void {
    const [datapointsToAlarm, evaluationPeriods] = rule.datapoints;
    const alarm = new cloudwatch.Alarm(this, `${key}Alarm`, {
      alarmName: regionUniqueName(this, key),
      alarmDescription: `${summary}. What to do: docs/operations.md, Alarms, ${key}.`,
      metric: rule.metric,
      threshold: rule.above ?? rule.atLeast,
      comparisonOperator:
        rule.above !== undefined
          ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
          : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      datapointsToAlarm,
      evaluationPeriods,
      // No requests is no news: a quiet night is not an alarm.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

/**
 * `errors` as a percentage of `requests`, counted only in a period with at least `minimum`
 * errors: below that the period reads 0, so a single failure at low traffic is no alarm,
 * while a low-traffic outage (every request failing) still is one.
 */
const guardedRate = (
  label: string,
  errors: cloudwatch.IMetric,
  requests: cloudwatch.IMetric,
  minimum: number,
) =>
  new cloudwatch.MathExpression({
    expression: `IF(FILL(errors, 0) >= ${minimum}, 100 * FILL(errors, 0) / requests, 0)`,
    usingMetrics: { errors, requests },
    period,
    label,
  });

const graph = (title: string, left: cloudwatch.IMetric[]) =>
  new cloudwatch.GraphWidget({ title, left, width: 12 });
