import * as z from 'zod/mini';
import type { FieldGroupEntity } from '../core/features/field-groups/groups';
import { documented } from './schemas/common';
import { issueDetail } from './schemas/issue-detail';

/** Money and prices: integers in minor units (cents), at most 1e12 either way. */
export const money = z.int().check(z.minimum(-1_000_000_000_000), z.maximum(1_000_000_000_000));

// Made on first use, not at cold start: building them costs every function's import.
let regionNames: Intl.DisplayNames | undefined;
let currencies: Set<string> | undefined;

/**
 * Whether ICU knows the region. Asked only of two capital letters: `Intl.DisplayNames`
 * throws a RangeError for anything that is not a region code at all.
 */
const isRegion = (code: string): boolean => {
  // User-assigned and grouping codes ICU names all the same: not countries.
  if (/^(AA|Q[M-Z]|X[A-Z]|ZZ|EU|EZ|UN)$/.test(code)) return false;
  try {
    regionNames ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    return regionNames.of(code) !== undefined;
  } catch {
    return false;
  }
};

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Every code {@link isRegion} takes, for the document: the same test, asked of AA to ZZ. */
export const countryCodes = (): string[] =>
  [...LETTERS].flatMap((first) => [...LETTERS].map((second) => first + second)).filter(isRegion);

/** ISO 3166-1 alpha-2, as far as the runtime's ICU knows the regions; the document lists them. */
export const countryCode = documented(
  z.string().check(
    // zod runs every check even after one failed: stop here, so ICU only sees two letters.
    z.regex(/^[A-Z]{2}$/, { message: 'An ISO 3166-1 alpha-2 code such as DE.', abort: true }),
    z.refine(isRegion, { message: 'Not an ISO 3166-1 country code.' }),
  ),
  () => ({ enum: countryCodes() }),
);

const isCurrency = (code: string): boolean => {
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return currencies.has(code);
};

/** ISO 4217, as far as the runtime's ICU knows the currencies; the document lists them. */
export const currencyCode = documented(
  z
    .string()
    .check(
      z.regex(/^[A-Z]{3}$/, { message: 'An ISO 4217 code such as EUR.', abort: true }),
      z.refine(isCurrency, { message: 'Not an ISO 4217 currency code.' }),
    ),
  () => ({ enum: Intl.supportedValuesOf('currency').filter(isCurrency) }),
);

/**
 * Each field's schema made optional, for a create body that may give any field. (Not
 * `z.partial`, which would bring more of zod into the bundles that need only this.)
 */
export const optionalFields = <T extends Record<string, z.ZodMiniType>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([field, schema]) => [field, z.optional(schema)])) as {
    [K in keyof T]: z.ZodMiniOptional<T[K]>;
  };

/**
 * Adds an issue for every value of `values` that its field's schema refuses, pointing at
 * the field. Fields without a schema, and read-only ones, are left to the field-group
 * machinery. `null` is always accepted: in `set` it removes a field, in `base` it stands
 * for one that was absent.
 */
const checkFieldValues = (
  fields: Record<string, z.ZodMiniType>,
  entity: FieldGroupEntity,
  values: Record<string, unknown>,
  ctx: z.core.$RefinementCtx,
): void => {
  for (const [field, value] of Object.entries(values)) {
    // Own fields only: a body may name `toString` or `__proto__` too.
    const schema = Object.hasOwn(fields, field) ? fields[field] : undefined;
    if (!schema || entity.readOnly.includes(field) || value === null) continue;
    const result = schema.safeParse(value, { error: issueDetail });
    if (!result.success) {
      for (const issue of result.error.issues) {
        ctx.addIssue({ code: 'custom', path: [field, ...issue.path], message: issue.message });
      }
    }
  }
};

/**
 * `{base, set}` of a field-group PATCH. Each value of a known field, in `base` as in `set`,
 * must be a valid value of that field or null, so what reaches a condition expression is
 * always storable: an infinite or unsafe number, or a nested object, is 422 here, not a
 * failed write. `base` may carry other fields too (say, the whole record as read): they are
 * neither compared nor written. Which fields are known, owned or read-only in `set` is the
 * field-group machinery's business (it answers 422/403 with pointers).
 */
export const groupPatchSchema = (fields: Record<string, z.ZodMiniType>, entity: FieldGroupEntity) =>
  documented(
    z.strictObject({
      base: z
        .record(z.string(), z.unknown())
        .check(z.superRefine((base, ctx) => checkFieldValues(fields, entity, base, ctx))),
      set: z.record(z.string(), z.unknown()).check(
        z.refine((set) => Object.keys(set).length > 0, { message: 'set names no field.' }),
        z.superRefine((set, ctx) => checkFieldValues(fields, entity, set, ctx)),
      ),
    }),
    (toJsonSchema) => groupPatchKeywords(fields, entity, toJsonSchema),
  );

/**
 * What the field-group machinery checks, as JSON Schema: `set` names at least one field of a
 * group (not a read-only or unknown one), each a valid value or `null` unless required; `base`
 * takes any member, each field a valid value or `null`; and for each group that `set` touches,
 * `base` names every field of that group.
 */
const groupPatchKeywords = (
  fields: Record<string, z.ZodMiniType>,
  entity: FieldGroupEntity,
  toJsonSchema: (schema: z.ZodMiniType) => Record<string, unknown>,
): Record<string, unknown> => {
  const writable = entity.fields.filter((field) => !entity.readOnly.includes(field) && fields[field]);
  const fieldSchema = (field: string, nullable: boolean) => {
    const schema = toJsonSchema(fields[field] as z.ZodMiniType);
    return nullable ? { anyOf: [schema, { type: 'null' }] } : schema;
  };
  return {
    properties: {
      base: {
        type: 'object',
        properties: Object.fromEntries(writable.map((field) => [field, fieldSchema(field, true)])),
      },
      set: {
        type: 'object',
        properties: Object.fromEntries(
          writable.map((field) => [field, fieldSchema(field, !entity.required.includes(field))]),
        ),
        additionalProperties: false,
        minProperties: 1,
      },
    },
    allOf: Object.values(entity.groups).map((group) => {
      // Each field a condition names is declared beside it, as linters ask.
      const declared = Object.fromEntries(group.fields.map((field) => [field, {}]));
      const touched =
        group.fields.length === 1
          ? { required: [...group.fields] }
          : { anyOf: group.fields.map((field) => ({ required: [field] })) };
      return {
        if: { required: ['set'], properties: { set: { properties: declared, ...touched } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's `then`.
        then: {
          required: ['base'],
          properties: { base: { properties: declared, required: [...group.fields] } },
        },
      };
    }),
  };
};
