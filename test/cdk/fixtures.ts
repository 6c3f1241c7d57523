import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks, type IApplyRule, NagRuleCompliance } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { Operations } from '../../cdk/operations';
import { NoLostUpdatesStack, type NoLostUpdatesStackProps } from '../../cdk/stack';
import { DataTable } from '../../cdk/table';

/** The context of cdk.json (its feature flags), so a test synthesises what `cdk synth` would. */
export const cdkContext = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../../cdk.json', import.meta.url)), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/** An app with cdk.json's context that bundles no function: templates only, in a second or two. */
export const appWithoutBundling = (): App =>
  new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });

/** Where the test stacks mail their alarms: a stack without one warns at every synth. */
export const alarmEmail = 'ops@example.com';

/**
 * Another variant of the stack, synthesised without bundling the functions (its templates
 * only); its alarms go to {@link alarmEmail} unless `props` say otherwise.
 */
export const variant = (
  props: NoLostUpdatesStackProps,
  id = 'VariantStack',
): { stack: NoLostUpdatesStack; template: Template } => {
  const built = new NoLostUpdatesStack(appWithoutBundling(), id, { alarmEmail, ...props });
  return { stack: built, template: Template.fromStack(built) };
};

/**
 * Operations as a later change will use them: an API function and a stream consumer
 * (`change-feed`) on the list of functions it watches, in a stack of their own.
 */
export const withStreamConsumer = (): { stack: Stack; template: Template } => {
  const stack = new Stack(appWithoutBundling(), 'ConsumerStack');
  const { table } = new DataTable(stack);
  const httpApi = new apigwv2.HttpApi(stack, 'Api', { createDefaultStage: false });
  const stage = new apigwv2.HttpStage(stack, 'Stage', { httpApi, stageName: '$default' });
  const watched = (name: string, kind: 'api' | 'stream-consumer', id: string) => ({
    name,
    kind,
    fn: new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    }),
    logGroup: new logs.LogGroup(stack, `${id}Logs`),
  });
  new Operations(stack, 'Operations', {
    alarmEmail,
    api: { stage, accessLogs: new logs.LogGroup(stack, 'AccessLogs') },
    table,
    functions: [watched('health', 'api', 'Health'), watched('change-feed', 'stream-consumer', 'Consumer')],
  });
  return { stack, template: Template.fromStack(stack) };
};

/**
 * AwsSolutions, recording every finding its rules raise, acknowledged or not: what an
 * acknowledgement must answer.
 */
class RaisedFindings extends AwsSolutionsChecks {
  readonly raised: { path: string; id: string }[] = [];

  protected override applyRule(params: IApplyRule): void {
    const ruleId = `${this.readPackName}-${params.ruleSuffixOverride ?? params.rule.name}`;
    const path = params.node.node.path;
    try {
      const result = params.rule(params.node);
      if (result === NagRuleCompliance.NON_COMPLIANT) this.raised.push({ path, id: ruleId });
      if (Array.isArray(result))
        this.raised.push(...result.map((finding) => ({ path, id: `${ruleId}[${finding}]` })));
    } catch {
      // A rule that cannot read a resource raises its finding (cdk-nag does the same).
      this.raised.push({ path, id: ruleId });
    }
    super.applyRule(params);
  }
}

/** Every acknowledgement under `scope`: the construct it is on, the finding and the reason. */
export const acknowledgementsOf = (scope: IConstruct) =>
  scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );

/** Acknowledgements under `scope` that no finding of the rules raised on their construct or below answers. */
export const deadAcknowledgements = (scope: IConstruct): string[] => {
  const checks = new RaisedFindings();
  checks.validateScope(scope);
  return acknowledgementsOf(scope)
    .filter(
      (ack) =>
        !checks.raised.some(
          (finding) =>
            finding.id === ack.id && (finding.path === ack.path || finding.path.startsWith(`${ack.path}/`)),
        ),
    )
    .map((ack) => `${ack.path}: ${ack.id}`);
};
