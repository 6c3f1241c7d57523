import { z } from 'zod';
import type { FieldGroupEntity } from '../core/field-groups';

/** Money and prices: integers in minor units (cents), at most 1e12 either way. */
export const money = z.int().min(-1_000_000_000_000).max(1_000_000_000_000);

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** ISO 3166-1 alpha-2, as far as the runtime's ICU knows the regions. */
export const countryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, 'An ISO 3166-1 alpha-2 code such as DE.')
  .refine((code) => regionNames.of(code) !== undefined, { message: 'Not an ISO 3166-1 country code.' });

const currencies = new Set(Intl.supportedValuesOf('currency'));

/** ISO 4217, as far as the runtime's ICU knows the currencies. */
export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'An ISO 4217 code such as EUR.')
  .refine((code) => currencies.has(code), { message: 'Not an ISO 4217 currency code.' });

/**
 * `{base, set}` of a field-group PATCH: `set` values must be valid values of their fields
 * (null removes an optional one); `base` holds what the caller read, so any JSON value or
 * null (absent). Which fields are known, owned or read-only is the field-group machinery's
 * business (it answers 422/403 with pointers).
 */
export const groupPatchSchema = (fields: Record<string, z.ZodType>, entity: FieldGroupEntity) =>
  z.strictObject({
    base: z.record(z.string(), z.unknown()),
    set: z
      .record(z.string(), z.unknown())
      .refine((set) => Object.keys(set).length > 0, { message: 'set names no field.' })
      .superRefine((set, ctx) => {
        for (const [field, value] of Object.entries(set)) {
          const schema = fields[field];
          if (!schema || entity.readOnly.includes(field)) continue;
          if (value === null) continue;
          const result = schema.safeParse(value);
          if (!result.success) {
            for (const issue of result.error.issues) {
              ctx.addIssue({ code: 'custom', path: [field, ...issue.path], message: issue.message });
            }
          }
        }
      }),
  });
