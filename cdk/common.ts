import { fileURLToPath } from 'node:url';
import { Validations } from 'aws-cdk-lib';
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
