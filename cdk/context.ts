import { defaultThrottle } from './http-api';
import type { ExternalIdentity } from './identity';
import type { NoLostUpdatesStackProps } from './stack';

/** How the app reads its CDK context (`-c key=value`, or cdk.json's `context`). */
export type Context = (key: string) => unknown;

/** A context value that must be a non-empty string when it is given. */
const contextString = (context: Context, key: string): string | undefined => {
  const value = context(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`CDK context '${key}' must be a non-empty string`);
  }
  return value.trim();
};

/** A positive whole number from the context (`-c key=N` arrives as text), if given. */
const positiveInteger = (context: Context, key: string): number | undefined => {
  const value = context(key);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new Error(`CDK context '${key}' must be a positive whole number, got '${String(value)}'`);
  }
  return number;
};

/**
 * The identity provider from the context: `-c jwtIssuer=… -c jwtAudience=…` name an
 * external one; neither, the stack's own user pool. One without the other is refused, so a
 * deploy never trusts a half-configured provider (or none) by accident.
 */
export const identityFromContext = (context: Context): ExternalIdentity | undefined => {
  const issuer = contextString(context, 'jwtIssuer');
  const audience = contextString(context, 'jwtAudience');
  if (issuer === undefined && audience === undefined) return undefined;
  if (issuer === undefined || audience === undefined) {
    throw new Error(
      `CDK context: jwtIssuer and jwtAudience go together (got only ${issuer ? 'jwtIssuer' : 'jwtAudience'}). ` +
        'Pass both (-c jwtIssuer=https://issuer.example.com/ -c jwtAudience=my-api) to trust an external ' +
        'identity provider, or neither to use the Cognito user pool the stack creates.',
    );
  }
  // API Gateway accepts only an https issuer; say so at synth rather than at deploy.
  if (!issuer.startsWith('https://')) {
    throw new Error(`CDK context 'jwtIssuer' must be an https:// URL, got '${issuer}'`);
  }
  return { issuer, audience };
};

/** The stack's name when the context names none. */
export const defaultStackName = 'NoLostUpdates';

/**
 * The stack the context asks for (docs/operations.md, Options): its name (`stackName`) and
 * its props (`alarmEmail`, `jwtIssuer` + `jwtAudience`, `apiRateLimit`, `apiBurstLimit`,
 * `reservedConcurrency`). Everything else in the context is CDK's own.
 */
export const stackFromContext = (context: Context): { stackName: string; props: NoLostUpdatesStackProps } => {
  const identity = identityFromContext(context);
  const reservedConcurrency = positiveInteger(context, 'reservedConcurrency');
  const alarmEmail = contextString(context, 'alarmEmail');
  return {
    // Another name deploys another stack beside the first (a stage, or a second region).
    stackName: contextString(context, 'stackName') ?? defaultStackName,
    props: {
      ...(identity ? { identity } : {}),
      throttle: {
        rateLimit: positiveInteger(context, 'apiRateLimit') ?? defaultThrottle.rateLimit,
        burstLimit: positiveInteger(context, 'apiBurstLimit') ?? defaultThrottle.burstLimit,
      },
      ...(reservedConcurrency ? { reservedConcurrency } : {}),
      ...(alarmEmail ? { alarmEmail } : {}),
      description: 'No Lost Updates: HTTP API, Lambda functions, DynamoDB table, sign-in, web app and alarms',
    },
  };
};
