import { fileURLToPath } from 'node:url';
import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The repository root: entries, lock file, tsconfig and the web build are resolved from here, whatever the cwd. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** `customer-relations` → `CustomerRelations`: construct ids and alarm names from the route table's names. */
export const pascalCase = (name: string): string =>
  name
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');

/**
 * Acknowledges a cdk-nag (AwsSolutions) finding on `scope` and everything under it, with
 * the reason it is accepted; `RuleId[FindingId]` narrows it to one finding. A test fails on
 * an acknowledgement no rule raises, so none outlives its finding.
 */
export const acknowledge = (scope: IConstruct, ...findings: { id: string; reason: string }[]): void => {
  Validations.of(scope).acknowledge(...findings);
};

/**
 * A name that must be unique in the whole account (CloudWatch dashboards, CloudFront
 * policies and origin access controls): the stack's name and its region, so the same stack
 * deployed to two regions, or two stacks in one region, never claim the same one.
 */
export const accountUniqueName = (scope: IConstruct, suffix: string): string => {
  const stack = Stack.of(scope);
  return `${stack.stackName}-${stack.region}-${suffix}`;
};

/** A name that must be unique in the region (alarms): the stack's name is, there. */
export const regionUniqueName = (scope: IConstruct, suffix: string): string =>
  `${Stack.of(scope).stackName}-${suffix}`;

/** A log group's name, `/<stack>/<what>`: unique in the region, and all of a stack's found by one prefix. */
export const logGroupName = (scope: IConstruct, what: string): string =>
  `/${Stack.of(scope).stackName}/${what}`;

/**
 * A part of an ARN as cdk-nag writes it in a finding's id: the value where the stack knows it
 * at synth (an account and region given as its `env`), else `<AWS::…>`, the pseudo parameter.
 */
export const arnPartOf = (value: string, pseudo: 'AccountId' | 'Region' | 'Partition'): string =>
  Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
