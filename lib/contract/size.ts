/**
 * The size of `/openapi.json` before its schemas and responses were shared by `$ref`, as the
 * health function built and served it at run time (minified): the bound the built file is
 * held to is a third of it (`npm run bundles` prints both; a test holds the file to it).
 */
export const DOCUMENT_BYTES_BEFORE = 901_234;
export const DOCUMENT_BYTES_LIMIT = Math.floor(DOCUMENT_BYTES_BEFORE / 3);

/** The line `npm run bundles` prints for the built document. */
export const documentSizeLine = (bytes: number, gzipBytes: number): string => {
  const grouped = (value: number) => value.toLocaleString('en-US');
  const verdict = bytes <= DOCUMENT_BYTES_LIMIT ? 'met' : 'NOT met';
  return `OpenAPI document (openapi.json, as served): ${grouped(bytes)} bytes, ${grouped(gzipBytes)} gzip; target ≤ ${grouped(DOCUMENT_BYTES_LIMIT)} (a third of ${grouped(DOCUMENT_BYTES_BEFORE)} before) — ${verdict}`;
};
