import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import type { DocumentedOperation, Json, OpenApiDocument } from './document';
import { documentedValue, type Schema } from './json-schema-arbitrary';

/**
 * Requests made from nothing but the OpenAPI document (dereferenced): valid ones, whatever
 * its schemas allow, and ones a single change away that it does not allow; and the
 * document's own verdict on any request, as a validation proxy would give it.
 */
export interface DocumentRequest {
  method: string;
  path: string;
  /** The path parameters' values, as the path carries them encoded. */
  pathValues: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: unknown;
  mediaType?: string;
}

export interface DocumentOperation {
  method: string;
  template: string;
  operation: DocumentedOperation;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

export const operationsOf = (document: OpenApiDocument): DocumentOperation[] =>
  Object.entries(document.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      template,
      operation,
    })),
  );

const ajv = new Ajv2020({ strict: false, allErrors: false });
(addFormats as unknown as (instance: Ajv2020) => void)(ajv);
const compiled = new WeakMap<object, ReturnType<Ajv2020['compile']>>();
/** Whether `value` is valid by `schema`, as ajv (JSON Schema 2020-12) judges it. */
export const accepts = (schema: Schema, value: unknown): boolean => {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate(value) as boolean;
};

const parametersOf = (operation: DocumentedOperation): Parameter[] =>
  (operation.parameters ?? []) as unknown as Parameter[];
const bodySchemaOf = (operation: DocumentedOperation, mediaType = 'application/json'): Schema | undefined =>
  operation.requestBody?.content[mediaType]?.schema;

/** A query or path value as the document's schema sees it: integers are numbers. */
const parameterValue = (schema: Schema, text: string): unknown =>
  (schema.type === 'integer' || schema.type === 'number') && /^-?[0-9]+$/.test(text) ? Number(text) : text;

/** What the document says is wrong with a request, or nothing. */
export const documentRefuses = (
  operation: DocumentedOperation,
  request: DocumentRequest,
): string | undefined => {
  for (const parameter of parametersOf(operation)) {
    const sent =
      parameter.in === 'header'
        ? request.headers[parameter.name.toLowerCase()]
        : parameter.in === 'query'
          ? request.query[parameter.name]
          : undefined;
    if (parameter.in === 'path') {
      if (!accepts(parameter.schema, request.pathValues[parameter.name])) return `${parameter.name} invalid`;
      continue;
    }
    if (sent === undefined) {
      if (parameter.required) return `${parameter.name} missing`;
    } else if (!accepts(parameter.schema, parameterValue(parameter.schema, sent)))
      return `${parameter.name} invalid`;
  }
  if (request.body === undefined) return operation.requestBody?.required ? 'body missing' : undefined;
  const schema = bodySchemaOf(operation, request.mediaType);
  if (!schema) return 'body of an undeclared media type';
  return accepts(schema, request.body) ? undefined : 'body invalid';
};

const stringOf = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Requests the document allows for `operation`. Path parameters are mostly taken from `ids`
 * (the records a test made, by parameter name and first path segment), else made from
 * their schema; everything else is made from the document.
 */
export const validRequestOf = (
  { method, template, operation }: DocumentOperation,
  ids: (parameter: string, template: string) => string[],
): fc.Arbitrary<DocumentRequest> => {
  const parameters = parametersOf(operation);
  const path = fc.record(
    Object.fromEntries(
      parameters
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) => [
          parameter.name,
          fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...ids(parameter.name, template)) },
            { weight: 1, arbitrary: documentedValue(parameter.schema).map(stringOf) },
          ),
        ]),
    ),
  );
  const optional = (parameter: Parameter) => {
    const value = documentedValue(parameter.schema).map(stringOf);
    // A cursor made up is refused by a rule; send one now and then.
    const weight = parameter.name === 'cursor' ? 5 : 1;
    return parameter.required ? value : fc.option(value, { nil: undefined, freq: weight });
  };
  const named = (where: Parameter['in'], lower: boolean) =>
    fc
      .record(
        Object.fromEntries(
          parameters
            .filter((parameter) => parameter.in === where)
            .map((parameter) => [lower ? parameter.name.toLowerCase() : parameter.name, optional(parameter)]),
        ),
      )
      .map(
        (values) =>
          Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Record<
            string,
            string
          >,
      );
  const mediaTypes = Object.keys(operation.requestBody?.content ?? {});
  const body = operation.requestBody
    ? fc.constantFrom(...mediaTypes).chain((mediaType) => {
        const schema = bodySchemaOf(operation, mediaType) as Schema;
        const value = documentedValue(schema).filter((candidate) => accepts(schema, candidate));
        const sent = operation.requestBody?.required ? value : fc.option(value, { nil: undefined, freq: 3 });
        return sent.map((chosen) => ({ body: chosen, mediaType }));
      })
    : fc.constant({ body: undefined, mediaType: undefined });
  return fc
    .record({ path, query: named('query', false), headers: named('header', true), body })
    .map(({ path: values, query, headers, body: { body: chosen, mediaType } }) => ({
      method,
      path: pathOf(template, values),
      pathValues: values,
      query,
      headers,
      ...(chosen === undefined ? {} : { body: chosen, mediaType }),
    }))
    .filter((request) => documentRefuses(operation, request) === undefined);
};

const pathOf = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));

/** One change to a body that its schema may refuse: each kind of keyword broken once. */
const bodyMutations = (schema: Schema, body: unknown): unknown[] => {
  const object = body && typeof body === 'object' && !Array.isArray(body) ? (body as Json) : undefined;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const mutated: unknown[] = ['x', 1, [], null, { 'x-unknown': 1, ...object }];
  if (!object) return mutated;
  for (const name of (schema.required ?? []) as string[]) {
    const { [name]: _dropped, ...rest } = object;
    mutated.push(rest);
  }
  for (const [name, inner] of Object.entries(properties)) {
    const type = Array.isArray(inner.type) ? inner.type[0] : inner.type;
    const broken: unknown[] = [type === 'string' ? 12345 : 'text', { nested: true }];
    if (typeof inner.maxLength === 'number') broken.push('a'.repeat(inner.maxLength + 1));
    if (typeof inner.minLength === 'number' && inner.minLength > 0) broken.push('');
    if (typeof inner.pattern === 'string') broken.push('!!');
    if (Array.isArray(inner.enum)) broken.push('NOT-LISTED');
    if (typeof inner.maximum === 'number') broken.push(inner.maximum + 1);
    if (typeof inner.minimum === 'number') broken.push(inner.minimum - 1);
    if (type === 'integer') broken.push(1.5);
    if ((inner.not as Schema | undefined)?.const === 0) broken.push(0);
    if (typeof inner.maxItems === 'number') broken.push(Array(inner.maxItems + 1).fill(null));
    for (const value of broken) mutated.push({ ...object, [name]: value });
  }
  if (schema.anyOf || schema.minProperties) mutated.push({});
  return mutated;
};

/** A header or query value its schema may refuse. */
const parameterMutations = (parameter: Parameter): (string | undefined)[] => {
  const schema = parameter.schema;
  return [
    ...(parameter.required ? [undefined] : []),
    // HTTP strips spaces and tabs around a value: these stay wrong once sent.
    ...(schema.pattern ? ['', 'bad\tvalue', 'x'.repeat(300)] : []),
    ...(typeof schema.maximum === 'number' ? [String(schema.maximum + 1), 'abc'] : []),
    ...(typeof schema.minimum === 'number' ? [String(schema.minimum - 1)] : []),
    ...(typeof schema.maxLength === 'number' ? ['q'.repeat(schema.maxLength + 1)] : []),
    ...(typeof schema.minLength === 'number' && schema.minLength > 0 ? [''] : []),
  ];
};

export interface Mutation {
  readonly where: string;
  readonly request: DocumentRequest;
}

/** Whether the document lets anything of `operation`'s requests be wrong: a parameter or a body to break. */
export const takesInput = ({ operation }: DocumentOperation): boolean =>
  operation.requestBody !== undefined ||
  parametersOf(operation).some(
    (parameter) => parameter.in === 'path' || parameterMutations(parameter).length > 0,
  );

/** A valid request changed in one place the document says it may not be. */
export const invalidRequestOf = (
  operation: DocumentOperation,
  ids: (parameter: string, template: string) => string[],
): fc.Arbitrary<Mutation> =>
  validRequestOf(operation, ids).chain((request) => {
    const candidates: Mutation[] = [];
    const schema = bodySchemaOf(operation.operation, request.mediaType);
    if (schema) {
      for (const body of bodyMutations(schema, request.body))
        candidates.push({
          where: 'body',
          request: { ...request, body, mediaType: request.mediaType ?? 'application/json' },
        });
    }
    for (const parameter of parametersOf(operation.operation).filter((p) => p.in === 'path')) {
      for (const value of ['x'.repeat(129), 'a.b', '~x']) {
        const pathValues = { ...request.pathValues, [parameter.name]: value };
        candidates.push({
          where: `path ${parameter.name}`,
          request: { ...request, pathValues, path: pathOf(operation.template, pathValues) },
        });
      }
    }
    for (const parameter of parametersOf(operation.operation).filter((p) => p.in !== 'path')) {
      for (const value of parameterMutations(parameter)) {
        const field = parameter.in === 'header' ? 'headers' : 'query';
        const name = parameter.in === 'header' ? parameter.name.toLowerCase() : parameter.name;
        const { [name]: _old, ...others } = request[field];
        candidates.push({
          where: `${parameter.in} ${parameter.name}`,
          request: { ...request, [field]: value === undefined ? others : { ...others, [name]: value } },
        });
      }
    }
    const refused = candidates.filter(
      (candidate) => documentRefuses(operation.operation, candidate.request) !== undefined,
    );
    return fc.constantFrom(...refused);
  });
