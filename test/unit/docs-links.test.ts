import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The relative links and images of a Markdown file, as written (without their #anchor). */
const relativeLinks = (file: string): string[] =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)]
    .map((match) => match[1] as string)
    .filter((link) => !/^[a-z]+:/i.test(link));

describe('the documents a person reads', () => {
  it('link only to files that exist, relative to the document that links', () => {
    const dead = documents.flatMap((file) =>
      relativeLinks(file)
        .filter((link) => !existsSync(join(root, normalize(join(dirname(file), link)))))
        .map((link) => `${file} → ${link}`),
    );
    expect(documents.length).toBeGreaterThan(5);
    expect(dead).toEqual([]);
  });

  it('show every screenshot they link, and link every screenshot kept in docs/', () => {
    const linked = new Set(
      documents.flatMap((file) =>
        relativeLinks(file)
          .filter((link) => link.endsWith('.png'))
          .map((link) => normalize(join(dirname(file), link))),
      ),
    );
    const kept = readdirSync(join(root, 'docs/screenshots')).map((name) => `docs/screenshots/${name}`);
    expect(kept.filter((file) => !linked.has(file))).toEqual([]);
  });
});
