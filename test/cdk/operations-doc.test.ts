import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pascalCase } from '../../cdk/common';
import { defaultStackName, stackFromContext } from '../../cdk/context';
import { accessLogFields } from '../../cdk/http-api';
import { roles } from '../../lib/domain/roles';
import { liveFunctionNames, liveTableAccess } from '../../lib/live/connections-spec';
import { metricNames, metricsNamespace } from '../../lib/observability';
import { functionNames, functionTableAccess } from '../../lib/routes';
import { variant, withStreamConsumer } from './fixtures';

/**
 * docs/operations.md is what an operator acts on: its shell blocks run as written with every
 * tool it lists stubbed, and each statement that the template can prove is held to it.
 */
const doc = readFileSync(fileURLToPath(new URL('../../docs/operations.md', import.meta.url)), 'utf8');

/** The text under `heading` (e.g. `### Outputs`), up to the next heading of its level or above. */
const sectionOf = (heading: string): string => {
  const start = doc.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/operations.md has no '${heading}'`);
  const level = heading.indexOf(' ');
  const rest = doc.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${level}} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
};

/** The rows of the first table in `text`, header and rule left off; each cell trimmed. */
const tableOf = (text: string): string[][] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2)
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );

/** The `code` spans of `text`, backticks removed. */
const codeSpans = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map(([, span]) => span ?? '');

const webBuild = mkdtempSync(join(tmpdir(), 'web-build-'));
writeFileSync(join(webBuild, 'index.html'), '<!doctype html><title>test</title>');
afterAll(() => rmSync(webBuild, { recursive: true, force: true }));

/** The stack as the doc deploys it: the default name, its own user pool, an alarm address. */
const deployed = variant({ webAppDir: webBuild }, defaultStackName);
const resources = (template: Template) =>
  Object.values(
    template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }
    >,
  );
const ofType = (type: string, template: Template = deployed.template) =>
  resources(template).filter((resource) => resource.Type === type);
const outputNames = Object.keys(deployed.template.toJSON().Outputs as object);

/** The tools the prerequisites list: each bullet's leading `code` spans, before its colon. */
const prerequisites = sectionOf('### Prerequisites')
  .split('\n')
  .filter((line) => line.startsWith('- `'))
  .flatMap((line) => codeSpans(line.split(':')[0] ?? ''));

/** Every `bash` block of the doc, in order: what a reader pastes into one shell. */
const script = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map(([, block]) => block).join('\n');

describe('docs/operations.md, run as written', () => {
  let run: { status: number | null; stderr: string; calls: string[][] };

  beforeAll(() => {
    // Each listed tool but node is a stub that notes its arguments; node is itself, for the
    // doc's `output` helper. Nothing else is on the PATH: an unlisted tool is not found.
    const dir = mkdtempSync(join(tmpdir(), 'operations-doc-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const calls = join(dir, 'calls.jsonl');
    const stub = join(dir, 'stub.cjs');
    writeFileSync(
      stub,
      `const fs = require('node:fs');
module.exports = (tool) => {
  const args = process.argv.slice(2);
  fs.appendFileSync(process.env.CALLS, JSON.stringify([tool, ...args]) + '\\n');
  if (tool === 'npm' && args[0] === 'run' && args[1] === 'deploy') {
    const named = args.find((arg) => arg.startsWith('stackName='));
    const stack = named ? named.slice('stackName='.length) : ${JSON.stringify(defaultStackName)};
    const outputs = Object.fromEntries(JSON.parse(process.env.OUTPUTS).map((name) => [name, 'stub-' + name]));
    fs.writeFileSync('cdk-outputs.json', JSON.stringify({ [stack]: outputs }));
  }
  if (tool === 'aws' && args[args.indexOf('--output') + 1] === 'text') console.log('stub-aws-' + args[1]);
};
`,
    );
    for (const tool of prerequisites) {
      if (tool === 'node') symlinkSync(process.execPath, join(bin, 'node'));
      else
        writeFileSync(
          join(bin, tool),
          `#!${process.execPath}\nrequire(${JSON.stringify(stub)})(${JSON.stringify(tool)});\n`,
          { mode: 0o755 },
        );
    }
    // No input, no rc file: bash reads /etc/bash.bashrc when its input looks like a remote shell's.
    const result = spawnSync('/bin/bash', ['--norc', '-euo', 'pipefail', '-c', script], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: bin, HOME: dir, CALLS: calls, OUTPUTS: JSON.stringify(outputNames) },
      encoding: 'utf8',
    });
    const called = readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as string[]);
    run = { status: result.status, stderr: result.stderr, calls: called };
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const callsOf = (...prefix: string[]) =>
    run.calls.filter((call) => prefix.every((word, index) => call[index] === word));
  const indexOf = (...prefix: string[]) =>
    run.calls.findIndex((call) => prefix.every((word, index) => call[index] === word));

  it('lists node, npm, npx, aws and curl as the tools it needs', () => {
    expect(prerequisites).toEqual(['node', 'npm', 'npx', 'aws', 'curl']);
  });

  it('runs every block to the end: no variable used before a block sets it, no tool the prerequisites leave out', () => {
    expect([run.status, run.stderr]).toEqual([0, '']);
  });

  it('checks the account, installs, bootstraps, then deploys with the stack name and the alarm address', () => {
    const steps = [
      indexOf('aws', 'sts', 'get-caller-identity'),
      indexOf('npm', 'ci'),
      indexOf('npx', 'cdk', 'bootstrap'),
      indexOf('npm', 'run', 'deploy'),
    ];

    expect(steps.every((step, index) => step >= 0 && (index === 0 || step > (steps[index - 1] ?? 0)))).toBe(
      true,
    );
    expect(callsOf('npm', 'run', 'deploy')).toEqual([
      [
        'npm',
        'run',
        'deploy',
        '--',
        '-c',
        `stackName=${defaultStackName}`,
        '-c',
        'alarmEmail=you@example.com',
      ],
    ]);
  });

  it('puts the smoke user into every role, and runs the smoke test against the ApiUrl output with its token', () => {
    const groups = callsOf('aws', 'cognito-idp', 'admin-add-user-to-group')
      .filter((call) => call.includes('smoke'))
      .map((call) => call[call.indexOf('--group-name') + 1]);

    expect(groups).toEqual([...roles]);
    expect(callsOf('npm', 'run', 'smoke')).toEqual([
      [
        'npm',
        'run',
        'smoke',
        '--',
        '--url',
        'stub-ApiUrl',
        '--token',
        'stub-aws-initiate-auth',
        '--live-url',
        'stub-LiveUrl',
      ],
    ]);
  });

  it('tears down the stack it deployed, then deletes that stack’s table by its TableName output', () => {
    expect(callsOf('npm', 'run', 'destroy')).toEqual([
      ['npm', 'run', 'destroy', '--', '-c', `stackName=${defaultStackName}`],
    ]);
    expect(callsOf('aws', 'dynamodb', 'delete-table').map((call) => call.slice(3))).toEqual([
      ['--table-name', 'stub-TableName'],
    ]);
  });
});

describe('docs/operations.md against the template', () => {
  it('names every output of the stack, and no other', () => {
    const documented = tableOf(sectionOf('### Outputs')).map(([name]) => codeSpans(name ?? '')[0]);

    expect(documented.sort()).toEqual([...outputNames].sort());
  });

  it('names every context key the app reads, with its default', () => {
    const read = new Set<string>();
    const { stackName, props } = stackFromContext((key) => {
      read.add(key);
      return undefined;
    });

    const rows = tableOf(sectionOf('### Options')).map(([keys, fallback]) => [
      codeSpans(keys ?? ''),
      codeSpans(fallback ?? ''),
    ]);

    expect(rows.flatMap(([keys]) => keys ?? []).sort()).toEqual([...read].sort());
    expect(rows.filter(([, fallback]) => (fallback ?? []).length > 0)).toEqual([
      [['stackName'], [stackName]],
      [
        ['apiRateLimit', 'apiBurstLimit'],
        [String(props.throttle?.rateLimit), String(props.throttle?.burstLimit)],
      ],
    ]);
  });

  it('grants each function, in the least privilege table, exactly what the route table declares', () => {
    const rows = tableOf(sectionOf('## Least privilege'));

    expect(rows).toEqual(
      functionNames.map((name) => {
        const access = functionTableAccess[name];
        const table = (access?.table ?? []).map((action) => action.replace('dynamodb:', '')).sort();
        return [name, table.join(', ') || 'none', access?.indexes.join(', ') || 'none'];
      }),
    );
  });

  it('grants each live channel function, in its least privilege table, exactly what it declares', () => {
    const rows = tableOf(sectionOf('## Live channel'));

    expect(rows.map(([name, table]) => [name, table])).toEqual(
      liveFunctionNames.map((name) => [
        name,
        liveTableAccess[name].map((action) => action.replace('dynamodb:', '')).join(', ') || 'none',
      ]),
    );
  });

  it('says how long each log group keeps its lines and that it goes with the stack', () => {
    const rows = tableOf(sectionOf('### Log groups')).map(([name, , kept, onTearDown]) => {
      const [pattern = ''] = codeSpans(name ?? '');
      return { pattern, days: Number.parseInt(kept ?? '', 10), deleted: onTearDown === 'deleted' };
    });
    const nameOf = (pattern: string) => (fn: string) =>
      pattern.replace('<stack>', defaultStackName).replace('<function>', fn);
    const everyFunction = [...functionNames, ...liveFunctionNames];

    const described = ofType('AWS::Logs::LogGroup').map((group) => {
      const name = group.Properties.LogGroupName as string;
      const row = rows.find((candidate) => everyFunction.map(nameOf(candidate.pattern)).includes(name));
      return [name, row && { days: row.days, deleted: row.deleted }];
    });

    expect(described).toEqual(
      ofType('AWS::Logs::LogGroup').map((group) => [
        group.Properties.LogGroupName,
        { days: group.Properties.RetentionInDays, deleted: group.DeletionPolicy === 'Delete' },
      ]),
    );
    expect(
      rows.every((row) =>
        described.some(([name]) => everyFunction.map(nameOf(row.pattern)).includes(name as string)),
      ),
    ).toBe(true);
  });

  it('keeps the table alone when the stack goes, with 35 days of point-in-time recovery', () => {
    const retained = resources(deployed.template).filter((resource) => resource.DeletionPolicy === 'Retain');

    expect(retained.map((resource) => resource.Type)).toEqual(['AWS::DynamoDB::GlobalTable']);
    expect(retained[0]?.Properties.Replicas).toEqual([
      expect.objectContaining({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
    ]);
    expect(sectionOf('## Restore the table')).toContain('any second of the last 35\ndays');
  });

  it('lists the access log line’s fields', () => {
    const observability = sectionOf('### One log line per request');
    const sentence = observability.slice(
      observability.indexOf('to the access log:'),
      observability.indexOf('. A request'),
    );

    expect(codeSpans(sentence.replace(/\([^)]*\)/g, ''))).toEqual(Object.keys(accessLogFields));
  });

  it('lists the functions’ EMF metrics and the stack’s own metrics from its log lines', () => {
    const metrics = sectionOf('### Metrics');
    const paragraph = (start: string) => metrics.slice(metrics.indexOf(start)).split('\n\n')[0] ?? '';
    const ownNames = codeSpans(paragraph("The stack's own")).filter(
      (span) => /^[A-Z<]/.test(span) && !span.includes('/'),
    );
    const emfNames = codeSpans(paragraph("The functions' EMF metrics")).filter(
      (span) => /^[A-Z][a-zA-Z]+$/.test(span) && span !== metricsNamespace,
    );
    const filtered = ofType('AWS::Logs::MetricFilter').map(
      (filter) => (filter.Properties.MetricTransformations as { MetricName: string }[])[0]?.MetricName,
    );

    expect(emfNames.sort()).toEqual([...Object.values(metricNames)].sort());
    expect(
      ownNames
        .filter((name) => name !== 'OrdersServerError')
        .flatMap((name) =>
          name.includes('<Function>')
            ? functionNames.map((fn) => name.replace('<Function>', pascalCase(fn)))
            : [name],
        )
        .sort(),
    ).toEqual([...new Set(filtered)].sort());
  });
});

describe('docs/operations.md, the alarms runbook', () => {
  /** Each row: the alarm names it stands for, what fires it, in how many periods. */
  const rows = tableOf(sectionOf('## Alarms')).map(
    ([alarm = '', firesWhen = '', periods = '', means = '', todo = '']) => {
      const [name = ''] = codeSpans(alarm);
      return {
        name,
        consumers: alarm.includes('(stream consumers)'),
        apiOnly: alarm.includes('(API functions)'),
        firesWhen,
        periods,
        means,
        todo,
      };
    },
  );
  const alarmsOf = (template: Template, stackName: string) =>
    Object.fromEntries(
      ofType('AWS::CloudWatch::Alarm', template).map((alarm) => [
        String(alarm.Properties.AlarmName).replace(`${stackName}-`, ''),
        alarm.Properties,
      ]),
    );
  const stackAlarms = alarmsOf(deployed.template, defaultStackName);
  const consumerAlarms = alarmsOf(withStreamConsumer().template, 'ConsumerStack');
  const expand = (name: string, fns: readonly string[]) =>
    name.includes('<Function>') ? fns.map((fn) => name.replace('<Function>', pascalCase(fn))) : [name];

  it('has a line for every alarm of the stack, and no line for an alarm it does not have', () => {
    const documented = rows.flatMap((row) =>
      expand(
        row.name,
        row.consumers
          ? ['live-stream']
          : row.apiOnly
            ? functionNames
            : [...functionNames, ...liveFunctionNames],
      ),
    );

    expect(documented.sort()).toEqual(Object.keys(stackAlarms).sort());
  });

  it('has a line for the alarm a stream consumer brings', () => {
    const documented = rows
      .filter((row) => row.consumers)
      .flatMap((row) => expand(row.name, ['change-feed']));

    expect(documented).toEqual(
      Object.keys(consumerAlarms).filter(
        (name) =>
          name.startsWith('ChangeFeed') &&
          !rows.some((row) => !row.consumers && expand(row.name, ['change-feed']).includes(name)),
      ),
    );
  });

  it.each(rows.map((row) => [row.name, row] as const))(
    '%s: says what fires it, as the alarm does, and what it means and what to do',
    (_name, row) => {
      const alarms = row.consumers ? consumerAlarms : stackAlarms;
      const [example = ''] = expand(row.name, row.consumers ? ['change-feed'] : ['orders']);
      const alarm = alarms[example] ?? {};
      const [, comparison, threshold] = /(>|≥) ([\d,]+)/.exec(row.firesWhen) ?? [];
      const [, minimum] = /counted from (\d+)/.exec(row.firesWhen) ?? [];
      const [, datapoints, periods] = /^(\d) of (\d)$/.exec(row.periods) ?? [];
      const expressions = (alarm.Metrics ?? []) as { Expression?: string; MetricStat?: { Period: number } }[];

      expect({
        operator: comparison === '>' ? 'GreaterThanThreshold' : 'GreaterThanOrEqualToThreshold',
        threshold: Number(threshold?.replace(',', '')),
        datapoints: Number(datapoints),
        periods: Number(periods),
      }).toEqual({
        operator: alarm.ComparisonOperator,
        threshold: alarm.Threshold,
        datapoints: alarm.DatapointsToAlarm,
        periods: alarm.EvaluationPeriods,
      });
      expect(
        expressions
          .flatMap((metric) => (metric.MetricStat ? [metric.MetricStat.Period] : []))
          .every((period) => period === 300),
      ).toBe(true);
      if (minimum)
        expect(expressions.some((metric) => metric.Expression?.includes(`>= ${minimum},`))).toBe(true);
      expect([row.means.length > 40, row.todo.length > 40]).toEqual([true, true]);
    },
  );
});
