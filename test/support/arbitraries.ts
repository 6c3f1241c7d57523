import fc from 'fast-check';

/**
 * fast-check arbitraries from the JSON Schemas of the OpenAPI document: values a schema
 * accepts, for the subset of JSON Schema the document uses (objects, arrays, strings with
 * lengths and patterns, integers and numbers with bounds, enums, constants, unions).
 */
type Schema = Record<string, unknown>;

const stringOf = (schema: Schema): fc.Arbitrary<string> => {
  if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern));
  const minLength = Number(schema.minLength ?? 0);
  const maxLength = Math.min(Number(schema.maxLength ?? 40), minLength + 40);
  return fc.string({ minLength, maxLength, unit: 'grapheme-ascii' });
};

export const validValueOf = (schema: Schema): fc.Arbitrary<unknown> => {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (union) return fc.oneof(...union.map(validValueOf));
  switch (schema.type) {
    case 'string':
      return stringOf(schema);
    case 'integer':
      return fc.integer({
        min: Math.max(Number(schema.minimum ?? -1e6), -1e9),
        max: Math.min(Number(schema.maximum ?? 1e6), 1e9),
      });
    case 'number':
      return fc.integer({ min: Number(schema.minimum ?? 0), max: 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = Number(schema.minItems ?? 0);
      return fc.array(validValueOf((schema.items as Schema) ?? {}), {
        minLength,
        maxLength: Math.min(Number(schema.maxItems ?? 3), minLength + 3),
      });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const shape = Object.fromEntries(
        Object.entries(properties).map(([name, inner]) => [name, validValueOf(inner)]),
      );
      return fc.record(shape, { requiredKeys: [...required].filter((name) => name in shape) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
};

/** A body that a schema may refuse: a valid one changed by one mutation, or any JSON. */
export const mutatedOf = (schema: Schema): fc.Arbitrary<unknown> =>
  fc.oneof(
    validValueOf(schema).chain((valid) =>
      valid && typeof valid === 'object' && !Array.isArray(valid)
        ? fc.oneof(
            // A field of the wrong type.
            fc
              .constantFrom(...Object.keys(valid), 'name')
              .chain((field) => fc.jsonValue({ maxDepth: 1 }).map((junk) => ({ ...valid, [field]: junk }))),
            // A field nobody declared.
            fc.string({ minLength: 1, maxLength: 8 }).map((field) => ({ ...valid, [`x${field}`]: 1 })),
            // A field left out.
            fc.constant(Object.fromEntries(Object.entries(valid).slice(1))),
          )
        : fc.jsonValue({ maxDepth: 2 }),
    ),
    fc.jsonValue({ maxDepth: 3 }),
  );
