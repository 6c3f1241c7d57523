import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { deploySteps, runSteps, type Step } from '../../scripts/deploy';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const packageScripts = (
  JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;
const commandOf = (step: Step) => [step.command, ...step.args].join(' ');

describe('npm run deploy', () => {
  it('is scripts/deploy.ts; npm run destroy is cdk destroy', () => {
    expect([packageScripts.deploy, packageScripts.destroy]).toEqual(['tsx scripts/deploy.ts', 'cdk destroy']);
  });

  it('builds the web app, then the OpenAPI document, then synthesises and deploys with the context it is given', () => {
    const steps = deploySteps(
      ['-c', 'alarmEmail=ops@example.com', '-c', 'stackName=NoLostUpdates-staging'],
      {},
    );

    expect(steps.map(commandOf)).toEqual([
      'npm run build:web',
      'npm run openapi',
      'npx cdk deploy --outputs-file cdk-outputs.json -c alarmEmail=ops@example.com -c stackName=NoLostUpdates-staging',
    ]);
    expect([packageScripts['build:web'], packageScripts.openapi]).toEqual([
      'vite build web',
      'tsx scripts/openapi.ts',
    ]);
  });

  it.each([
    ['--context alarmEmail=ops@example.com', ['--context', 'alarmEmail=ops@example.com'], {}],
    ['--context=alarmEmail=ops@example.com', ['--context=alarmEmail=ops@example.com'], {}],
    ['alarmEmail in cdk.json', [], { alarmEmail: 'ops@example.com' }],
    ['--no-alarm-email, which cdk is not given', ['--no-alarm-email'], {}],
  ])('deploys with %s', (_case, args, context) => {
    const [, , deploy] = deploySteps(args, context);

    expect(deploy && commandOf(deploy)).toBe(
      [
        'npx cdk deploy --outputs-file cdk-outputs.json',
        ...args.filter((arg) => arg !== '--no-alarm-email'),
      ].join(' '),
    );
  });

  it('keeps an outputs file it is given', () => {
    const [, , deploy] = deploySteps(['--outputs-file', 'out.json', '-c', 'alarmEmail=ops@example.com'], {});

    expect(deploy && commandOf(deploy)).toBe(
      'npx cdk deploy --outputs-file out.json -c alarmEmail=ops@example.com',
    );
  });

  it('refuses to deploy alarms that reach no one, saying what to pass', () => {
    expect(() => deploySteps(['-c', 'stackName=NoLostUpdates'], {})).toThrow(
      'Refusing to deploy alarms that reach no one. Pass -c alarmEmail=you@example.com (and confirm the mail AWS sends), or --no-alarm-email to deploy without: the AlarmDestination output will say NONE.',
    );
  });

  it('stops at the first step that fails, with its status: a failed web build deploys nothing', () => {
    const steps = deploySteps(['--no-alarm-email'], {});
    const ran: string[] = [];

    const status = runSteps(steps, (step) => {
      ran.push(commandOf(step));
      return step.args.includes('build:web') ? 3 : 0;
    });

    expect([status, ran]).toEqual([3, ['npm run build:web']]);
  });
});

describe('the web build step', () => {
  const webDist = mkdtempSync(join(tmpdir(), 'web-dist-'));
  afterAll(() => rmSync(webDist, { recursive: true, force: true }));

  it('replaces a stale build: files of an old build are gone, index.html names the new assets', () => {
    mkdirSync(join(webDist, 'assets'));
    writeFileSync(join(webDist, 'index.html'), '<!doctype html><script src="/assets/old-1234.js"></script>');
    writeFileSync(join(webDist, 'assets', 'old-1234.js'), 'stale');
    const [build] = deploySteps(['--no-alarm-email'], {}) as [Step];

    const result = spawnSync(build.command, build.args, {
      cwd: projectRoot,
      env: { ...process.env, WEB_DIST: webDist },
      encoding: 'utf8',
    });

    const index = readFileSync(join(webDist, 'index.html'), 'utf8');
    const referenced = [...index.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map(([, path]) => path);
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(webDist, 'assets', 'old-1234.js'))).toBe(false);
    expect(referenced.length).toBeGreaterThan(0);
    expect(referenced.every((path) => existsSync(join(webDist, path ?? '')))).toBe(true);
    expect(readdirSync(join(webDist, 'assets')).sort()).toEqual(
      referenced.map((path) => path?.replace('assets/', '')).sort(),
    );
  }, 120_000);
});
