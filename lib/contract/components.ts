import type * as z from 'zod';
import { countryCode, currencyCode } from '../domain/field-values';
import { type ErrorCode, problemCatalog } from '../problems';
import * as answers from './responses';

type Json = Record<string, unknown>;

export const refOf = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** The schemas the document names once and refers to everywhere else. */
const named: Record<string, [z.ZodType, 'input' | 'output']> = {
  Annotation: [answers.annotationRecord, 'output'],
  OrderLine: [answers.orderLine, 'output'],
  Order: [answers.order, 'output'],
  OrderHeader: [answers.orderHeader, 'output'],
  Debtor: [answers.debtor, 'output'],
  Article: [answers.article, 'output'],
  Account: [answers.account, 'output'],
  LedgerEntry: [answers.ledgerEntry, 'output'],
  Lease: [answers.lease, 'output'],
  Problem: [answers.problem(Object.keys(problemCatalog) as ErrorCode[]), 'output'],
  CountryCode: [countryCode as unknown as z.ZodType, 'input'],
  CurrencyCode: [currencyCode as unknown as z.ZodType, 'input'],
};

const shared = (schemas: Record<string, Json>, value: unknown, own?: string): unknown => {
  const byJson = new Map(Object.entries(schemas).map(([name, schema]) => [JSON.stringify(schema), name]));
  const walk = (node: unknown, root: boolean): unknown => {
    if (Array.isArray(node)) return node.map((item) => walk(item, false));
    if (!node || typeof node !== 'object') return node;
    const name = byJson.get(JSON.stringify(node));
    if (name && !(root && name === own)) return refOf(name);
    return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, walk(inner, false)]));
  };
  return walk(value, true);
};

/** The named schemas, as JSON Schema (`plain`), and as `components.schemas` (each referring to the others it holds). */
export const namedSchemas = (
  toJson: (schema: z.ZodType, io: 'input' | 'output') => Json,
): { plain: Record<string, Json>; components: Record<string, Json> } => {
  const plain = Object.fromEntries(
    Object.entries(named).map(([name, [schema, io]]) => [name, toJson(schema, io)]),
  );
  return {
    plain,
    components: Object.fromEntries(
      Object.entries(plain).map(([name, schema]) => [name, shared(plain, schema, name) as Json]),
    ),
  };
};

/** `paths` with every occurrence of a named schema (`plain`) replaced by its `$ref`. */
export const shareSchemas = (
  paths: Record<string, Json>,
  plain: Record<string, Json>,
): Record<string, Json> => shared(plain, paths) as Record<string, Json>;

/**
 * Moves every error response that more than one operation answers alike into
 * `components.responses` (named by its status and codes) and refers to it; returns them.
 */
export const shareResponses = (paths: Record<string, Json>): Record<string, Json> => {
  const operationsOf = () =>
    Object.values(paths).flatMap(
      (methods) => Object.values(methods) as { responses: Record<string, Json> }[],
    );
  const counts = new Map<string, number>();
  for (const { responses } of operationsOf()) {
    for (const [status, response] of Object.entries(responses)) {
      if (Number(status) < 400) continue;
      const key = JSON.stringify(response);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const components: Record<string, Json> = {};
  const names = new Map<string, string>();
  for (const { responses } of operationsOf()) {
    for (const [status, response] of Object.entries(responses)) {
      const key = JSON.stringify(response);
      if (Number(status) < 400 || (counts.get(key) ?? 0) < 2) continue;
      let name = names.get(key);
      if (!name) {
        const schema = (
          response.content as Record<string, { schema: { properties: { code: { enum: string[] } } } }>
        )['application/problem+json']?.schema;
        name = [status, ...(schema?.properties.code.enum ?? [])].join('-');
        names.set(key, name);
        components[name] = response;
      }
      responses[status] = { $ref: `#/components/responses/${name}` };
    }
  }
  return components;
};
