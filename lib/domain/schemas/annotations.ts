/**
 * The bodies the annotation routes accept. Only zod and pure values here: the contract
 * (and with it the health function) imports these without the database client.
 */
import * as z from 'zod/mini';
import { patchOf, someMember, version } from './common';

const name = z.string().check(z.minLength(1), z.maxLength(200));
const description = z.string().check(z.maxLength(5000));
const tags = z.array(z.string().check(z.minLength(1), z.maxLength(50))).check(z.maxLength(20));

export const annotationFieldsSchema = z.strictObject({
  name,
  description: z.optional(description),
  tags: z.optional(tags),
});
export type AnnotationFields = z.infer<typeof annotationFieldsSchema>;

/** `PUT`: the full set of fields, plus the precondition as `version` if not in If-Match. */
export const replaceAnnotationSchema = z.strictObject({
  ...annotationFieldsSchema.shape,
  version: z.optional(version),
});

/** `PATCH`: JSON Merge Patch; `null` removes an optional field; `name` cannot be removed. */
export const patchAnnotationSchema = patchOf({
  name: z.optional(name),
  description: z.optional(z.nullable(description)),
  tags: z.optional(z.nullable(tags)),
  version: z.optional(version),
});

export const batchSchema = z.strictObject({
  atomic: z._default(z.boolean(), false),
  updates: z
    .array(
      z.strictObject({
        id: z.string().check(z.minLength(1), z.maxLength(64)),
        version,
        set: someMember(z.partial(annotationFieldsSchema), 'set names no field.'),
      }),
    )
    .check(
      z.minLength(1),
      z.maxLength(100),
      z.superRefine((updates, ctx) => {
        const seen = new Set<string>();
        updates.forEach((update, index) => {
          if (seen.has(update.id))
            ctx.addIssue({ code: 'custom', path: [index, 'id'], message: 'Duplicate id.' });
          seen.add(update.id);
        });
      }),
    ),
});
