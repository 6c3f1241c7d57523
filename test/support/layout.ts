import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/** The imports between the project's own files: from → to, each a path from the project root. */
export interface ImportGraph {
  files: string[];
  imports: [from: string, to: string][];
}

const sourceFiles = (root: string, dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory())
      return name === 'node_modules' ? [] : sourceFiles(root, path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });

const resolveImport = (root: string, from: string, specifier: string): string | undefined => {
  if (!specifier.startsWith('.')) return undefined;
  const base = normalize(join(dirname(from), specifier));
  return [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((path) => existsSync(join(root, path)));
};

/**
 * Every relative import (types included) of the TypeScript files under `dirs`, as the
 * compiler's own pre-processor reads them.
 */
export const importGraph = (root: string, dirs: readonly string[]): ImportGraph => {
  const files = dirs.flatMap((dir) => sourceFiles(root, dir)).sort();
  const imports = files.flatMap((file) =>
    ts
      .preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
      .importedFiles.flatMap(({ fileName }) => {
        const to = resolveImport(root, file, fileName);
        return to ? [[file, relative(root, join(root, to))] as [string, string]] : [];
      }),
  );
  return { files, imports };
};

/** The layers of the core, lowest first: a file may import its own layer and those below. */
export const CORE_LAYERS = ['build', 'send', 'once', 'features'] as const;

const coreLayer = (path: string): number | undefined => {
  const layer = (CORE_LAYERS as readonly string[]).indexOf(/^lib\/core\/([^/]+)\//.exec(path)?.[1] ?? '');
  return layer >= 0 ? layer : undefined;
};
const featureOf = (path: string): string | undefined => /^lib\/core\/features\/([^/]+)\//.exec(path)?.[1];
const top = (path: string): string => path.split('/')[0] as string;

/**
 * What the layout forbids, one sentence a breach: an import running back up the core's
 * layers (a builder importing the sending layer, say), a feature importing another, the
 * database layer importing the core, `lib` importing the functions, the web app or the
 * stack, a core file outside the named layers, and any circle of imports in `lib`.
 */
export const layoutViolations = (graph: ImportGraph): string[] => {
  const breaches: string[] = [];
  for (const file of graph.files) {
    if (file.startsWith('lib/core/') && coreLayer(file) === undefined)
      breaches.push(`${file} is in no layer of the core (${CORE_LAYERS.join(', ')})`);
  }
  for (const [from, to] of graph.imports) {
    if (!from.startsWith('lib/')) continue;
    if (['functions', 'web', 'cdk'].includes(top(to)))
      breaches.push(`${from} imports ${to}: lib never imports ${top(to)}`);
    if (from.startsWith('lib/db/') && to.startsWith('lib/core/'))
      breaches.push(`${from} imports ${to}: the database layer never imports the core`);
    const [fromLayer, toLayer] = [coreLayer(from), coreLayer(to)];
    if (fromLayer !== undefined && toLayer !== undefined && toLayer > fromLayer)
      breaches.push(`${from} imports ${to}: ${CORE_LAYERS[fromLayer]} never imports ${CORE_LAYERS[toLayer]}`);
    const [fromFeature, toFeature] = [featureOf(from), featureOf(to)];
    if (fromFeature && toFeature && fromFeature !== toFeature)
      breaches.push(`${from} imports ${to}: a feature never imports another feature`);
  }
  breaches.push(...circles(graph).map((circle) => `a circle of imports: ${circle.join(' -> ')}`));
  return breaches;
};

/** Every circle of imports among the files of `lib`, each once (Tarjan's strongly connected components). */
export const circles = (graph: ImportGraph): string[][] => {
  const inLib = (path: string) => path.startsWith('lib/');
  const next = new Map<string, string[]>();
  for (const [from, to] of graph.imports) {
    if (inLib(from) && inLib(to)) next.set(from, [...(next.get(from) ?? []), to]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (file: string) => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file) as number, low.get(to) as number));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file) as number, index.get(to) as number));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    const selfImport = (next.get(file) ?? []).includes(file);
    if (component.length > 1 || selfImport) found.push(component.sort());
  };
  for (const file of graph.files.filter(inLib)) if (!index.has(file)) visit(file);
  return found;
};
