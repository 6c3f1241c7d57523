import { App } from 'aws-cdk-lib';
import { NoLostUpdatesStack } from './stack';

/** A required context value (cdk.json `context` or `cdk synth -c key=value`); fails synth when absent. */
const requireContext = (app: App, key: string, example: string): string => {
  const value: unknown = app.node.tryGetContext(key);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(
      `Missing CDK context '${key}': set it in cdk.json under "context" or pass -c ${key}=${example}`,
    );
  }
  return value;
};

const app = new App();

const jwtIssuer = requireContext(app, 'jwtIssuer', 'https://issuer.example.com/');
// API Gateway accepts only an https issuer; say so at synth rather than at deploy.
if (!jwtIssuer.startsWith('https://')) {
  throw new Error(`CDK context 'jwtIssuer' must be an https:// URL, got '${jwtIssuer}'`);
}
const jwtAudience = requireContext(app, 'jwtAudience', 'my-api-audience');

new NoLostUpdatesStack(app, 'NoLostUpdates', {
  jwtIssuer,
  jwtAudience,
  description: 'No Lost Updates: HTTP API, Lambda functions and the DynamoDB table',
});
