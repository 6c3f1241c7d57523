/** `npm run openapi [file]`: writes the OpenAPI document (default openapi.json), for linters and client generators. */
import { writeFileSync } from 'node:fs';

// The document needs no table, but the domain modules it reads its schemas from load the
// config, which insists on one.
process.env.TABLE_NAME ??= 'unused-by-the-document';
const { openApiDocument } = await import('../lib/contract/openapi');

const target = process.argv[2] ?? 'openapi.json';
writeFileSync(target, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
