import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

const sources = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });

describe('the aggregate rule is structural', () => {
  it('only the aggregate writer builds the key of an order line', () => {
    const offenders = [...sources('lib'), ...sources('functions'), ...sources('scripts')].filter(
      (path) =>
        path !== join('lib', 'core', 'aggregate.ts') &&
        readFileSync(join(root, path), 'utf8').includes('LINE#'),
    );
    expect(offenders.map((path) => relative(root, join(root, path)))).toEqual([]);
  });

  it('the aggregate writer keeps its child key to itself', () => {
    const writer = readFileSync(join(root, 'lib', 'core', 'aggregate.ts'), 'utf8');
    expect(writer).toMatch(/^const childKey = /m);
    expect(writer).not.toMatch(/export const childKey/);
    expect(writer).not.toMatch(/export \{[^}]*childKey/);
  });

  it('every transaction that writes children starts with the header update', () => {
    const writer = readFileSync(join(root, 'lib', 'core', 'aggregate.ts'), 'utf8');
    const transaction = writer.slice(writer.indexOf('export const writeAggregate'));
    expect(transaction).toMatch(
      /TransactItems: \[\s*\{\s*Update: \{\s*\.\.\.changeRequest\(spec, id, precondition, write\.header, context, extras\)/,
    );
    expect(transaction).toMatch(/\.\.\.write\.children\.map\(\(child\) => childRequest\(spec, id, child\)\)/);
  });
});
