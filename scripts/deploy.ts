/**
 * `npm run deploy [-- <cdk deploy options>]`: builds the web app (into web/dist, replacing
 * what is there) and the OpenAPI document, then runs `cdk deploy`, which synthesises the
 * stack and deploys it, with the options given (`-c alarmEmail=…`, `-c stackName=…`,
 * `--require-approval never`, …) and the outputs written to cdk-outputs.json. It refuses to
 * deploy alarms that reach no one: pass `-c alarmEmail=you@example.com`, or `--no-alarm-email`
 * to deploy without on purpose (docs/operations.md, Deploy).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface Step {
  /** What the step makes, for the line printed before it runs. */
  readonly what: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** `--no-alarm-email`: the caller knows nobody will be mailed; not passed on to cdk. */
const withoutAlarmEmail = '--no-alarm-email';

/** The value of context `key` among cdk's options: `-c key=v`, `--context key=v`, `--context=key=v`. */
const contextValue = (args: readonly string[], key: string): string | undefined => {
  let value: string | undefined;
  args.forEach((arg, index) => {
    const pair =
      arg === '-c' || arg === '--context' ? args[index + 1] : /^(?:-c|--context)=(.*)$/.exec(arg)?.[1];
    if (pair?.startsWith(`${key}=`)) value = pair.slice(key.length + 1);
  });
  return value;
};

export class DeployRefused extends Error {}

/**
 * The steps of a deploy, in order: the web app and the document first, since `cdk deploy`
 * synthesises the stack from them; then `cdk deploy` with `args`. `context` is cdk.json's,
 * where an `alarmEmail` may be set too.
 */
export const deploySteps = (args: readonly string[], context: Record<string, unknown>): Step[] => {
  const cdkArgs = args.filter((arg) => arg !== withoutAlarmEmail);
  const alarmEmail = contextValue(cdkArgs, 'alarmEmail') ?? context.alarmEmail;
  if (!alarmEmail && !args.includes(withoutAlarmEmail)) {
    throw new DeployRefused(
      'Refusing to deploy alarms that reach no one. Pass -c alarmEmail=you@example.com (and confirm the ' +
        `mail AWS sends), or ${withoutAlarmEmail} to deploy without: the AlarmDestination output will say NONE.`,
    );
  }
  const outputs = cdkArgs.some((arg) => arg.startsWith('--outputs-file'))
    ? []
    : ['--outputs-file', 'cdk-outputs.json'];
  return [
    { what: 'the web app (web/dist, built afresh)', command: 'npm', args: ['run', 'build:web'] },
    { what: 'the OpenAPI document (openapi.json)', command: 'npm', args: ['run', 'openapi'] },
    {
      what: 'the stack: synth, then deploy',
      command: 'npx',
      args: ['cdk', 'deploy', ...outputs, ...cdkArgs],
    },
  ];
};

/** Runs the steps one after the other; the first that fails ends the deploy with its status. */
export const runSteps = (
  steps: readonly Step[],
  run: (step: Step) => number = (step) =>
    spawnSync(step.command, step.args, { stdio: 'inherit' }).status ?? 1,
): number => {
  for (const step of steps) {
    console.log(`\n> ${step.what}: ${step.command} ${step.args.join(' ')}`);
    const status = run(step);
    if (status !== 0) return status;
  }
  return 0;
};

const main = (): void => {
  const { context } = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  try {
    process.exit(runSteps(deploySteps(process.argv.slice(2), context)));
  } catch (error) {
    if (!(error instanceof DeployRefused)) throw error;
    console.error(error.message);
    process.exit(2);
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
