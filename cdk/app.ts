import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackFromContext } from './context';
import { NoLostUpdatesStack } from './stack';

const app = new App();
// cdk-nag on every synth and deploy: any finding not fixed or acknowledged in the stack stops it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
const { stackName, props } = stackFromContext((key) => app.node.tryGetContext(key));
new NoLostUpdatesStack(app, stackName, props);
