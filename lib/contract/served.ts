import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { namesTag } from '../etag';

/**
 * `GET /openapi.json` as a static file: the bytes `npm run openapi` wrote at build time (the
 * document and its gzip), never built at run time. The health function reads them on the first
 * request for them, from `OPENAPI_FILE`, else beside its bundle (the stack copies them there),
 * else from the project root (the local server); each is answered with a strong ETag of its
 * bytes, `Cache-Control`, gzip to a client that takes it, and 304 to `If-None-Match`.
 */
export const DOCUMENT_FILE = 'openapi.json';
/** The gzip of the document, written beside it. */
export const GZIP_FILE = `${DOCUMENT_FILE}.gz`;
/** Caches may keep it five minutes, then ask again with the ETag (a deploy changes it). */
export const documentCacheControl = 'public, max-age=300';

interface Representation {
  readonly bytes: Buffer;
  readonly etag: string;
}

const etagOf = (bytes: Buffer): string =>
  `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;

/** Where the built document is, in the order looked for. */
export const documentLocations = (): string[] => [
  ...(process.env.OPENAPI_FILE ? [process.env.OPENAPI_FILE] : []),
  fileURLToPath(new URL(`./${DOCUMENT_FILE}`, import.meta.url)),
  fileURLToPath(new URL(`../../${DOCUMENT_FILE}`, import.meta.url)),
];

let loaded: { identity: Representation; gzip: Representation } | undefined;

const load = () => {
  if (loaded) return loaded;
  const file = documentLocations().find((candidate) => existsSync(candidate));
  if (!file) throw new Error(`${DOCUMENT_FILE} is not built: run npm run openapi.`);
  const identity = readFileSync(file);
  const gzip = readFileSync(`${file}.gz`);
  loaded = {
    identity: { bytes: identity, etag: etagOf(identity) },
    gzip: { bytes: gzip, etag: etagOf(gzip) },
  };
  return loaded;
};

/** Whether `Accept-Encoding` takes gzip (not `gzip;q=0`). */
const takesGzip = (acceptEncoding: string | undefined): boolean =>
  (acceptEncoding ?? '').split(',').some((coding) => {
    const [name, ...parameters] = coding.trim().toLowerCase().split(';');
    const q = parameters.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return (name === 'gzip' || name === 'x-gzip') && (q === undefined || Number(q.slice(2)) > 0);
  });

export interface DocumentAnswer {
  statusCode: 200 | 304;
  headers: Record<string, string>;
  body?: string;
  isBase64Encoded: boolean;
}

/** The answer to `GET /openapi.json`, from the request's (lower-case) headers. */
export const documentAnswer = (headers: Record<string, string | undefined>): DocumentAnswer => {
  const { identity, gzip } = load();
  const chosen = takesGzip(headers['accept-encoding']) ? gzip : identity;
  const common = {
    ETag: chosen.etag,
    'Cache-Control': documentCacheControl,
    Vary: 'Accept-Encoding',
  };
  const ifNoneMatch = headers['if-none-match'] ?? '';
  if (namesTag(ifNoneMatch, identity.etag) || namesTag(ifNoneMatch, gzip.etag)) {
    return { statusCode: 304, headers: common, isBase64Encoded: false };
  }
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json',
      ...common,
      ...(chosen === gzip ? { 'Content-Encoding': 'gzip' } : {}),
    },
    body: chosen.bytes.toString('base64'),
    isBase64Encoded: true,
  };
};
