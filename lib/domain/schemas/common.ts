import * as z from 'zod/mini';

/**
 * What the bodies of several resources share. Its own module, since each schema here is
 * built at import: a function bundles what it imports, not what it uses.
 */

/** A record's version, as a body may carry it for its precondition: 1, 2, …. */
export const version = z.int().check(z.minimum(1));

/** Turns a schema of these modules into JSON Schema (the document's converter). */
export type ToJsonSchema = (schema: z.ZodMiniType) => Record<string, unknown>;

/**
 * The JSON Schema keywords of a check zod cannot convert (a refinement), declared beside the
 * check itself. The OpenAPI document adds them to the schema's own (a key set to `undefined`
 * removes one). A function is called only when the document is built, never at cold start.
 */
export type JsonSchemaKeywords =
  | Record<string, unknown>
  | ((toJsonSchema: ToJsonSchema) => Record<string, unknown>);

/** The keywords declared for each schema, read by the document (lib/contract). */
export const documentedKeywords = new WeakMap<object, JsonSchemaKeywords>();

/** `schema`, whose refinements the document states as `keywords`. */
export const documented = <S extends z.ZodMiniType>(schema: S, keywords: JsonSchemaKeywords): S => {
  documentedKeywords.set(schema, keywords);
  return schema;
};

const PATCH_MESSAGE = 'The patch changes no field.';

/**
 * A patch body: its fields, each optional, and at least one besides `version` (which only
 * says what the patch is based on). In JSON Schema: `anyOf` one of those fields is present.
 */
export const patchOf = <Shape extends Record<string, z.ZodMiniType>>(shape: Shape) => {
  const fields = Object.keys(shape).filter((key) => key !== 'version');
  return documented(
    z
      .strictObject(shape)
      .check(
        z.refine((patch) => Object.keys(patch).some((key) => key !== 'version'), { message: PATCH_MESSAGE }),
      ),
    { anyOf: fields.map((field) => ({ required: [field] })) },
  );
};

/** An object that names at least one member: `minProperties: 1`. */
export const someMember = <S extends z.ZodMiniType<Record<string, unknown>>>(schema: S, message: string) =>
  documented(schema.check(z.refine((value) => Object.keys(value).length > 0, { message })) as S, {
    minProperties: 1,
  });

/** A number that must not be 0: `not: {const: 0}`. */
export const nonZero = <S extends z.ZodMiniType<number>>(schema: S, message: string) =>
  documented(schema.check(z.refine((value) => value !== 0, { message })) as S, { not: { const: 0 } });
