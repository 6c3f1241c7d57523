import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ImportGraph, importGraph, layoutViolations } from '../support/layout';

const root = fileURLToPath(new URL('../..', import.meta.url));
const project = importGraph(root, ['lib', 'functions', 'cdk', 'web/src', 'scripts', 'bench']);

/** The project's own graph with one more import. */
const withImport = (from: string, to: string): ImportGraph => ({
  files: [...new Set([...project.files, from, to])],
  imports: [...project.imports, [from, to]],
});

describe('the layout of the code', () => {
  it('has no import running back up a layer, no feature importing another, no circle in lib', () => {
    expect(layoutViolations(project)).toEqual([]);
  });

  it('reads the real imports: the core is in its named layers, and the functions import it only through lib', () => {
    const coreFolders = new Set(
      project.files.filter((file) => file.startsWith('lib/core/')).map((file) => file.split('/')[2]),
    );
    expect([...coreFolders].sort()).toEqual(['build', 'features', 'once', 'send']);
    expect(
      project.imports.some(([from, to]) => from === 'functions/annotations.ts' && to.startsWith('lib/')),
    ).toBe(true);
  });

  it.each([
    [
      'a builder importing the sending layer',
      'lib/core/build/requests.ts',
      'lib/core/send/writes.ts',
      'build never imports send',
    ],
    [
      'exactly-once importing a feature',
      'lib/core/once/commit.ts',
      'lib/core/features/records/store.ts',
      'once never imports features',
    ],
    [
      'a feature importing another',
      'lib/core/features/leases/leases.ts',
      'lib/core/features/records/store.ts',
      'a feature never imports another feature',
    ],
    [
      'the database layer importing the core',
      'lib/db/client.ts',
      'lib/core/send/send.ts',
      'the database layer never imports the core',
    ],
    ['lib importing a function', 'lib/routes.ts', 'functions/orders.ts', 'lib never imports functions'],
    ['lib importing the web app', 'lib/client/api-client.ts', 'web/src/main.tsx', 'lib never imports web'],
    ['lib importing the stack', 'lib/config.ts', 'cdk/stack.ts', 'lib never imports cdk'],
  ])('fails on %s', (_, from, to, reason) => {
    const [first, ...others] = layoutViolations(withImport(from, to));
    expect(first).toBe(`${from} imports ${to}: ${reason}`);
    // An import back down a layer that the lower one already imports up is a circle too.
    expect(others.every((other) => other.startsWith('a circle of imports: '))).toBe(true);
  });

  it('fails on a circle', () => {
    const violations = layoutViolations(withImport('lib/core/build/keys.ts', 'lib/core/build/requests.ts'));
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(
      /^a circle of imports: .*lib\/core\/build\/keys\.ts.*lib\/core\/build\/requests\.ts/,
    );
  });

  it('fails on a core file outside the named layers', () => {
    expect(layoutViolations({ files: ['lib/core/stray.ts'], imports: [] })).toEqual([
      'lib/core/stray.ts is in no layer of the core (build, send, once, features)',
    ]);
  });
});
