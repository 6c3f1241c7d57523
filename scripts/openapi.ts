/** `npm run openapi`: writes the OpenAPI document to openapi.json (or the path given), for linters and clients. */
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../lib/contract/openapi';

const target = process.argv[2] ?? 'openapi.json';
writeFileSync(target, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
