import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { matchRoute } from '../../lib/routes';
import { loadDocument } from './document';

/**
 * Holds an answer to the OpenAPI document: its status is declared for its route, its body
 * matches the schema declared for that status and media type, and the headers the document
 * promises are there. Returns what is wrong, or nothing.
 */
type Schema = Record<string, unknown>;
interface DocumentedResponse {
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: Schema }>;
}

/** The document as built and served, with its `$ref`s resolved. */
const document = loadDocument().dereferenced as unknown as {
  paths: Record<string, Record<string, { responses: Record<string, DocumentedResponse> }>>;
};
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (instance: Ajv2020) => void)(ajv);
const validators = new Map<Schema, ReturnType<Ajv2020['compile']>>();
const validatorOf = (schema: Schema) => {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
};

/** The documented route a request went to, as the local server and API Gateway pick it. */
export const routeOf = (method: string, path: string) => {
  const matched = matchRoute(method, path.split('?')[0] ?? '');
  return matched && 'route' in matched ? matched.route : undefined;
};

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

export const contractViolations = (method: string, path: string, answer: Answer): string[] => {
  const route = routeOf(method, path);
  if (!route) return [];
  const documented = document.paths[route.path]?.[route.method.toLowerCase()]?.responses ?? {};
  const response = documented[String(answer.status)];
  const where = `${method} ${route.path} → ${answer.status}`;
  if (!response) return [`${where}: status not declared (declared: ${Object.keys(documented).join(', ')})`];
  const problems: string[] = [];
  const mediaType = (answer.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (response.content) {
    const declared = response.content[mediaType];
    if (!declared) problems.push(`${where}: content-type ${mediaType || 'none'} not declared`);
    else {
      const validate = validatorOf(declared.schema);
      if (!validate(answer.body)) {
        problems.push(
          `${where}: body does not match: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`,
        );
      }
    }
  } else if (answer.body !== undefined) problems.push(`${where}: a body where none is declared`);
  for (const name of Object.keys(response.headers ?? {})) {
    const optional = ['Idempotent-Replayed', 'Applied-Version', 'Retry-After', 'WWW-Authenticate'].includes(
      name,
    );
    if (!optional && answer.headers.get(name) === null) problems.push(`${where}: header ${name} missing`);
  }
  return problems;
};
