import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The OpenAPI document as built by `npm run openapi` (the run's global setup builds it) and
 * served: the tests that hold the server to the document read this file, as a tool that has
 * nothing but the document would, never the zod schemas it was made from.
 */
export const documentFile = fileURLToPath(new URL('../../openapi.json', import.meta.url));

export type Json = Record<string, unknown>;

export interface DocumentedOperation {
  operationId: string;
  parameters?: Json[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema: Json }> }
  >;
  'x-rules'?: { status: number; code: string; pointer?: string; detail?: string; when: string }[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, DocumentedOperation>>;
  components: Json;
}

const pointerTo = (document: Json, ref: string): unknown =>
  ref
    .replace(/^#\//, '')
    .split('/')
    .map((part) => decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Json)[key], document);

/**
 * The document with every `$ref` replaced by what it names; a `$ref` with siblings (the
 * Problem narrowed to an operation's codes) becomes `allOf` of both, as JSON Schema 2020-12
 * reads it. The document has no cycles.
 */
export const dereference = <T>(document: T): T => {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const { $ref, ...rest } = node as Json;
    if (typeof $ref === 'string') {
      const target = walk(pointerTo(document as Json, $ref));
      return Object.keys(rest).length === 0 ? target : { allOf: [target, walk(rest)] };
    }
    return Object.fromEntries(Object.entries(rest).map(([key, inner]) => [key, walk(inner)]));
  };
  return walk(document) as T;
};

/** The document as built, parsed; `dereferenced`: with every `$ref` resolved. */
export const loadDocument = (
  file = documentFile,
): { raw: OpenApiDocument; dereferenced: OpenApiDocument } => {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
  return { raw, dereferenced: dereference(raw) };
};
