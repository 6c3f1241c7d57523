/**
 * `npm run openapi [file]`: builds the OpenAPI document (default openapi.json) and its gzip
 * (`<file>.gz`), the bytes `GET /openapi.json` serves locally and deployed (the stack copies
 * both into the health function's bundle), and the file linters and client generators read.
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

// The document needs no table, but the domain modules it reads its schemas from load the
// config, which insists on one.
process.env.TABLE_NAME ??= 'unused-by-the-document';
const { openApiDocument } = await import('../lib/contract/openapi');

const target = process.argv[2] ?? 'openapi.json';
const bytes = Buffer.from(JSON.stringify(openApiDocument()));
const gzip = gzipSync(bytes, { level: 9 });
writeFileSync(target, bytes);
writeFileSync(`${target}.gz`, gzip);
console.log(`wrote ${target} (${bytes.byteLength} bytes, ${gzip.byteLength} gzip)`);
