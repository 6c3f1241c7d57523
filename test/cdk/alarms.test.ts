import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pascalCase } from '../../cdk/common';
import { accessLogFields } from '../../cdk/http-api';
import { logger, observeRequest } from '../../lib/http/observability';
import { liveFunctionNames } from '../../lib/live/connections-spec';
import { functionNames } from '../../lib/routes';
import { apiEvent } from '../support/events';
import { captureLines, type LogLine } from '../support/logs';
import { variant, withStreamConsumer } from './fixtures';

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}
interface AlarmMetric {
  readonly Id: string;
  readonly Expression?: string;
  readonly MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
    Period: number;
    Stat: string;
  };
}

const webBuild = mkdtempSync(join(tmpdir(), 'web-build-'));
writeFileSync(join(webBuild, 'index.html'), '<!doctype html><title>test</title>');
afterAll(() => rmSync(webBuild, { recursive: true, force: true }));

const withEmail = variant({ webAppDir: webBuild }, 'AlarmStack');
const withoutEmail = variant({ webAppDir: webBuild, alarmEmail: undefined }, 'QuietStack');
const resources = (template: Template) =>
  Object.entries(template.toJSON().Resources as Record<string, Resource>);
const ofType = (template: Template, type: string) =>
  resources(template).filter(([, resource]) => resource.Type === type);
const pascal = (name: string) => name[0]?.toUpperCase() + name.slice(1);

/** The stack's alarms by name, the stack's name left off. */
const alarms = Object.fromEntries(
  ofType(withEmail.template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => [
    String(alarm.Properties.AlarmName).replace(/^AlarmStack-/, ''),
    alarm.Properties,
  ]),
);
const metricsOf = (name: string) => (alarms[name]?.Metrics ?? []) as AlarmMetric[];
const namespace = 'NoLostUpdates/AlarmStack';

/** Each alarm: how it compares, with what, in how many of 3 five-minute periods. */
const thresholds: [string, string, number, number][] = [
  ['ServerErrorRate', 'GreaterThanThreshold', 1, 2],
  ['UnauthorizedRate', 'GreaterThanThreshold', 10, 2],
  ['WriteContentionRate', 'GreaterThanThreshold', 1, 2],
  ['ThrottledRate', 'GreaterThanThreshold', 1, 2],
  ['TableSystemErrors', 'GreaterThanOrEqualToThreshold', 5, 2],
  ...functionNames.flatMap((name): [string, string, number, number][] => [
    [`${pascal(name)}Errors`, 'GreaterThanOrEqualToThreshold', 3, 2],
    [`${pascal(name)}Throttles`, 'GreaterThanOrEqualToThreshold', 5, 2],
    [`${pascal(name)}Duration`, 'GreaterThanThreshold', 5000, 3],
    [`${pascal(name)}ServerErrorRate`, 'GreaterThanThreshold', 1, 2],
  ]),
  ...liveFunctionNames.flatMap((name): [string, string, number, number][] => [
    [`${pascalCase(name)}Errors`, 'GreaterThanOrEqualToThreshold', 3, 2],
    [`${pascalCase(name)}Throttles`, 'GreaterThanOrEqualToThreshold', 5, 2],
    [`${pascalCase(name)}Duration`, 'GreaterThanThreshold', 5000, 3],
  ]),
  ['LiveStreamIteratorAge', 'GreaterThanThreshold', 60_000, 2],
  ['LiveFailedChanges', 'GreaterThanOrEqualToThreshold', 1, 1],
];

/** Each rate alarm: the least errors a period needs to count, its errors and its requests. */
const guardedRates: [string, number, [string, string], [string, string]][] = [
  ['ServerErrorRate', 5, ['AWS/ApiGateway', '5xx'], ['AWS/ApiGateway', 'Count']],
  ['UnauthorizedRate', 10, [namespace, 'Unauthorized'], ['AWS/ApiGateway', 'Count']],
  ['WriteContentionRate', 5, [namespace, 'WriteContention'], ['AWS/ApiGateway', 'Count']],
  ['ThrottledRate', 5, [namespace, 'Throttled'], ['AWS/ApiGateway', 'Count']],
  ...functionNames.map((name): [string, number, [string, string], [string, string]] => [
    `${pascal(name)}ServerErrorRate`,
    5,
    [namespace, `${pascal(name)}ServerError`],
    ['AWS/Lambda', 'Invocations'],
  ]),
];

describe('alarms someone receives and trusts', () => {
  it.each(thresholds)(
    '%s: %s %d in %d of 3 five-minute periods, to the topic and back',
    (name, operator, threshold, datapoints) => {
      const [[topicId]] = ofType(withEmail.template, 'AWS::SNS::Topic') as [[string, Resource]];

      const alarm = alarms[name];

      expect(alarm).toMatchObject({
        ComparisonOperator: operator,
        Threshold: threshold,
        DatapointsToAlarm: datapoints,
        EvaluationPeriods: 3,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
      expect(String(alarm?.AlarmDescription)).toMatch(
        new RegExp(`What to do: docs/operations.md, Alarms, ${name}\\.$`),
      );
      expect(
        new Set(metricsOf(name).flatMap((metric) => (metric.MetricStat ? [metric.MetricStat.Period] : []))),
      ).toEqual(new Set([300]));
    },
  );

  it('has no alarm besides those', () => {
    expect(Object.keys(alarms).sort()).toEqual(thresholds.map(([name]) => name).sort());
  });

  it.each(guardedRates)(
    '%s is a percentage counted only from %d errors in a period',
    (name, minimum, errors, requests) => {
      const metric = (id: string) => {
        const stat = metricsOf(name).find((candidate) => candidate.Id === id)?.MetricStat;
        return [stat?.Metric.Namespace, stat?.Metric.MetricName];
      };

      const expressions = metricsOf(name).flatMap((candidate) =>
        candidate.Expression ? [candidate.Expression] : [],
      );

      expect(expressions).toEqual([`IF(FILL(errors, 0) >= ${minimum}, 100 * FILL(errors, 0) / requests, 0)`]);
      expect([metric('errors'), metric('requests')]).toEqual([errors, requests]);
    },
  );

  it.each(functionNames.map(pascal))(
    '%sDuration reads p99 only in a period of at least 20 invocations',
    (id) => {
      const metrics = metricsOf(`${id}Duration`);

      expect(
        metrics.map(
          (metric) =>
            metric.Expression ?? `${metric.MetricStat?.Metric.MetricName} ${metric.MetricStat?.Stat}`,
        ),
      ).toEqual(['IF(FILL(invocations, 0) >= 20, duration, 0)', 'Invocations Sum', 'Duration p99']);
    },
  );

  it('counts DynamoDB system errors of every operation the functions send', () => {
    const operations = metricsOf('TableSystemErrors').flatMap((metric) =>
      metric.MetricStat?.Metric.MetricName === 'SystemErrors'
        ? (metric.MetricStat.Metric.Dimensions ?? [])
            .filter((dimension) => dimension.Name === 'Operation')
            .map((dimension) => dimension.Value)
        : [],
    );

    expect(operations.sort()).toEqual([
      'DeleteItem',
      'GetItem',
      'PutItem',
      'Query',
      'TransactWriteItems',
      'UpdateItem',
    ]);
  });
});

describe('the stack’s own metrics, from its log lines', () => {
  const filters = ofType(withEmail.template, 'AWS::Logs::MetricFilter').map(([, filter]) => {
    const [transformation] = filter.Properties.MetricTransformations as {
      MetricNamespace: string;
      MetricName: string;
      MetricValue: string;
    }[];
    const logGroup = (filter.Properties.LogGroupName as { Ref: string }).Ref;
    const name = resources(withEmail.template).find(([id]) => id === logGroup)?.[1].Properties
      .LogGroupName as string;
    return { logGroup: name, pattern: filter.Properties.FilterPattern as string, ...transformation };
  });

  it('counts 5xx by function, WRITE_CONTENTION and THROTTLED from each function’s lines, 401 from the access log', () => {
    const requestLine = (condition: string) => `{ ($.message = "request") && (${condition}) }`;

    expect(filters.map((filter) => [filter.logGroup, filter.MetricName, filter.pattern]).sort()).toEqual(
      [
        ['/AlarmStack/api-access', 'Unauthorized', '{ $.status = "401" }'],
        ...functionNames.flatMap((name) => [
          [`/AlarmStack/functions/${name}`, `${pascal(name)}ServerError`, requestLine('$.status >= 500')],
          [`/AlarmStack/functions/${name}`, 'WriteContention', requestLine('$.code = "WRITE_CONTENTION"')],
          [`/AlarmStack/functions/${name}`, 'Throttled', requestLine('$.code = "THROTTLED"')],
        ]),
      ].sort(),
    );
    expect(new Set(filters.map((filter) => `${filter.MetricNamespace} ${filter.MetricValue}`))).toEqual(
      new Set([`${namespace} 1`]),
    );
  });

  /**
   * Whether a CloudWatch Logs JSON filter pattern of the shapes above (clauses joined by
   * `&&`, each `$.field = "text"`, `= number` or `>= number`) selects `line`.
   */
  const selects = (pattern: string, line: LogLine): boolean =>
    pattern
      .replace(/^\{\s*|\s*\}$/g, '')
      .split('&&')
      .every((clause) => {
        const parsed = /^\(?\s*\$\.(\w+)\s*(=|>=)\s*(?:"([^"]*)"|(\d+))\s*\)?$/.exec(clause.trim());
        if (!parsed) throw new Error(`A clause this check cannot read: ${clause}`);
        const [, field = '', operator, text, number] = parsed;
        const value = line[field];
        if (text !== undefined) return value === text;
        return operator === '='
          ? value === Number(number)
          : typeof value === 'number' && value >= Number(number);
      });

  // Every request's line, as in Lambda (the tests' environment logs only errors).
  beforeAll(() => logger.setLogLevel('INFO'));
  afterAll(() => logger.setLogLevel('ERROR'));
  afterEach(() => vi.restoreAllMocks());

  /** The log line a function writes for an answer (lib/http/observability.ts, as in Lambda). */
  const lineFor = (statusCode: number, code?: string): LogLine => {
    const out = captureLines(process.stdout);
    const err = captureLines(process.stderr);
    observeRequest(
      apiEvent('PATCH /annotations/{id}', { path: '/annotations/a1', id: 'a1', body: {} }),
      { statusCode, headers: {}, body: code ? JSON.stringify({ code }) : '' },
      { dynamodbRequests: 1, contentionRetries: 0, throttledAttempts: 0 },
      12,
    );
    const lines = [...out.lines(), ...err.lines()].filter((line) => line.message === 'request');
    vi.restoreAllMocks();
    expect(lines).toHaveLength(1);
    return lines[0] as LogLine;
  };
  const countedBy = (line: LogLine, group: string) =>
    filters
      .filter((filter) => filter.logGroup === group && selects(filter.pattern, line))
      .map((filter) => filter.MetricName)
      .sort();

  it('selects the lines the functions write: a 500, a WRITE_CONTENTION, a THROTTLED, and not a 412', () => {
    const group = '/AlarmStack/functions/annotations';

    expect([
      countedBy(lineFor(500, 'INTERNAL_ERROR'), group),
      countedBy(lineFor(409, 'WRITE_CONTENTION'), group),
      countedBy(lineFor(503, 'THROTTLED'), group),
      countedBy(lineFor(412, 'STALE_DATA'), group),
    ]).toEqual([
      ['AnnotationsServerError'],
      ['WriteContention'],
      ['AnnotationsServerError', 'Throttled'],
      [],
    ]);
  });

  it('selects the access log line API Gateway writes for a 401, and not for a 403', () => {
    const accessLine = (status: string): LogLine =>
      JSON.parse(
        JSON.stringify(accessLogFields)
          .replace('$context.status', status)
          .replace(/\$context\.[\w.]+/g, '-'),
      );

    expect([
      countedBy(accessLine('401'), '/AlarmStack/api-access'),
      countedBy(accessLine('403'), '/AlarmStack/api-access'),
    ]).toEqual([['Unauthorized'], []]);
  });
});

describe('who receives the alarms', () => {
  const outputs = (template: Template) => template.toJSON().Outputs as Record<string, { Value: unknown }>;

  it('mails the address it is given, and says so in the AlarmDestination output', () => {
    const [[, subscription]] = ofType(withEmail.template, 'AWS::SNS::Subscription') as [[string, Resource]];

    expect([subscription.Properties.Protocol, subscription.Properties.Endpoint]).toEqual([
      'email',
      'ops@example.com',
    ]);
    expect(outputs(withEmail.template).AlarmDestination?.Value).toBe(
      'mailed to ops@example.com once the subscription mail AWS sends is confirmed',
    );
    expect(Annotations.fromStack(withEmail.stack).findWarning('*', Match.stringLikeRegexp('alarm'))).toEqual(
      [],
    );
  });

  it('without one, warns at synth and says NONE in the AlarmDestination output', () => {
    const warnings = Annotations.fromStack(withoutEmail.stack).findWarning('*', Match.anyValue());

    expect(ofType(withoutEmail.template, 'AWS::SNS::Subscription')).toEqual([]);
    expect(outputs(withoutEmail.template).AlarmDestination?.Value).toBe(
      'NONE: nobody is subscribed to the alarm topic. Deploy again with -c alarmEmail=you@example.com',
    );
    expect(warnings.map((warning) => [warning.id, warning.entry.data])).toEqual([
      [
        '/QuietStack/Operations',
        'No alarm destination: the alarms reach no one. Deploy with -c alarmEmail=you@example.com (and confirm the mail AWS sends), or subscribe to the AlarmTopicArn output yourself. [ack: no-lost-updates:no-alarm-destination]',
      ],
    ]);
  });

  it('refuses an alarm address that is no email address', () => {
    expect(() => variant({ webAppDir: webBuild, alarmEmail: 'true' }, 'Refused')).toThrow(
      "CDK context 'alarmEmail' must be an email address, got 'true'",
    );
  });
});

describe('a function added later', () => {
  it('is alarmed on, as a stream consumer, when it falls more than a minute behind the stream', () => {
    const { template } = withStreamConsumer();

    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.AlarmName,
    );
    const [iteratorAge] = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: 'ConsumerStack-ChangeFeedIteratorAge' },
      }),
    );

    expect(names.filter((name) => name.startsWith('ConsumerStack-ChangeFeed')).sort()).toEqual([
      'ConsumerStack-ChangeFeedDuration',
      'ConsumerStack-ChangeFeedErrors',
      'ConsumerStack-ChangeFeedIteratorAge',
      'ConsumerStack-ChangeFeedThrottles',
    ]);
    expect(iteratorAge?.Properties).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 60_000,
      DatapointsToAlarm: 2,
      EvaluationPeriods: 3,
      Metrics: [
        {
          MetricStat: {
            Metric: { Namespace: 'AWS/Lambda', MetricName: 'IteratorAge' },
            Period: 300,
            Stat: 'Maximum',
          },
        },
      ],
    });
  });
});
