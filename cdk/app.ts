import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { contextString } from './common';
import { defaultThrottle } from './http-api';
import { identityFromContext } from './identity';
import { NoLostUpdatesStack } from './stack';

const app = new App();
// cdk-nag on every synth and deploy: any finding not fixed or acknowledged in the stack stops it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
const context = (key: string): unknown => app.node.tryGetContext(key);

/** A positive whole number from the context (`-c key=N` arrives as text), or the default. */
const positiveInteger = (key: string, fallback: number | undefined): number | undefined => {
  const value = context(key);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new Error(`CDK context '${key}' must be a positive whole number, got '${String(value)}'`);
  }
  return number;
};

const alarmEmail = contextString(context, 'alarmEmail');
const identity = identityFromContext(context);
const reservedConcurrency = positiveInteger('reservedConcurrency', undefined);

// `-c stackName=…` deploys another stack beside the first (a stage, or a second region).
new NoLostUpdatesStack(app, contextString(context, 'stackName') ?? 'NoLostUpdates', {
  ...(identity ? { identity } : {}),
  throttle: {
    rateLimit: positiveInteger('apiRateLimit', defaultThrottle.rateLimit) as number,
    burstLimit: positiveInteger('apiBurstLimit', defaultThrottle.burstLimit) as number,
  },
  ...(reservedConcurrency ? { reservedConcurrency } : {}),
  ...(alarmEmail ? { alarmEmail } : {}),
  description: 'No Lost Updates: HTTP API, Lambda functions, DynamoDB table, sign-in, web app and alarms',
});
