import fc from 'fast-check';

/**
 * fast-check arbitraries from JSON Schema 2020-12, as the OpenAPI document writes it (no
 * `$ref`: give it a dereferenced document): values a schema is meant to accept, for the
 * keywords the document uses (`type`, `enum`, `const`, `pattern`, lengths, bounds, `not`,
 * `anyOf`/`oneOf`/`allOf`, `if`/`then`, `required`, `minProperties`, `additionalProperties`).
 * A value may still miss a keyword that relates members (`if`/`then`, `not`): the caller
 * filters with a validator, which alone says what the document accepts.
 */
export type Schema = Record<string, unknown>;

/** The schemas of `allOf` and of required-only `anyOf` branches folded into one object schema. */
const merged = (schema: Schema, pick: (branches: Schema[]) => Schema): Schema => {
  let result: Schema = { ...schema };
  for (const part of (schema.allOf as Schema[] | undefined) ?? []) {
    if ('if' in part) continue;
    result = mergeTwo(result, merged(part, pick));
  }
  delete result.allOf;
  const anyOf = result.anyOf as Schema[] | undefined;
  if (anyOf?.every((branch) => !('type' in branch) && !('const' in branch) && !('enum' in branch))) {
    result = mergeTwo(result, pick(anyOf));
    delete result.anyOf;
  }
  return result;
};

const mergeTwo = (a: Schema, b: Schema): Schema => ({
  ...a,
  ...b,
  ...(a.properties || b.properties
    ? { properties: { ...(a.properties as Schema), ...(b.properties as Schema) } }
    : {}),
  ...(a.required || b.required
    ? { required: [...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])])] }
    : {}),
});

const stringOf = (schema: Schema): fc.Arbitrary<string> => {
  const minLength = Number(schema.minLength ?? 0);
  const maxLength = Number(schema.maxLength ?? minLength + 40);
  const fits = (value: string) => [...value].length >= minLength && [...value].length <= maxLength;
  if (typeof schema.pattern === 'string')
    return fc.stringMatching(new RegExp(schema.pattern, 'u')).filter(fits);
  return fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 40), unit: 'grapheme' });
};

const typeOf = (schema: Schema): string | undefined =>
  Array.isArray(schema.type) ? (schema.type[0] as string) : (schema.type as string | undefined);

export const documentedValue = (input: Schema): fc.Arbitrary<unknown> => {
  if ('const' in input) return fc.constant(input.const);
  if (Array.isArray(input.enum)) return fc.constantFrom(...(input.enum as unknown[]));
  const union = (input.oneOf ?? input.anyOf) as Schema[] | undefined;
  if (
    union?.some((branch) => 'type' in branch || 'const' in branch || 'enum' in branch || 'allOf' in branch)
  ) {
    const { anyOf: _a, oneOf: _o, ...rest } = input;
    return fc.oneof(...union.map((branch) => documentedValue(mergeTwo(rest, branch))));
  }
  return fc
    .integer({ min: 0, max: 1_000_000 })
    .chain((seed) => valueOfMerged(merged(input, (branches) => branches[seed % branches.length] as Schema)));
};

const valueOfMerged = (schema: Schema): fc.Arbitrary<unknown> => {
  if ('const' in schema || Array.isArray(schema.enum) || schema.anyOf || schema.oneOf)
    return documentedValue(schema);
  const not = schema.not as Schema | undefined;
  const arbitrary = byType(schema);
  return not && 'const' in not ? arbitrary.filter((value) => value !== not.const) : arbitrary;
};

const byType = (schema: Schema): fc.Arbitrary<unknown> => {
  switch (typeOf(schema) ?? (schema.properties ? 'object' : undefined)) {
    case 'string':
      return stringOf(schema);
    case 'integer':
    case 'number': {
      const min = Number(schema.minimum ?? -1e12);
      const max = Number(schema.maximum ?? 1e12);
      // Bounds and their neighbours, as often as anything in between.
      return fc.oneof(
        fc.constantFrom(min, max, Math.min(min + 1, max), 0, 1, -1).filter((n) => n >= min && n <= max),
        fc.integer({ min: Math.max(min, -(2 ** 53) + 1), max: Math.min(max, 2 ** 53 - 1) }),
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = Number(schema.minItems ?? 0);
      const maxLength = Math.min(Number(schema.maxItems ?? minLength + 3), minLength + 3);
      return fc.array(documentedValue((schema.items as Schema) ?? {}), { minLength, maxLength });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = ((schema.required ?? []) as string[]).filter((name) => name in properties);
      const names = Object.keys(properties);
      const shape = Object.fromEntries(
        names.map((name) => [name, documentedValue(properties[name] as Schema)]),
      );
      const minProperties = Number(schema.minProperties ?? 0);
      // Every member, or the required ones and some others.
      return fc
        .oneof(fc.constant(names), fc.subarray(names))
        .chain((chosen) => fc.record(shape, { requiredKeys: [...new Set([...required, ...chosen])] }))
        .filter((value) => Object.keys(value).length >= minProperties);
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
};
