import * as z from 'zod/mini';
import { type BatchResult, type BatchUpdate, changeAll, changeEach } from '../core/batch';
import type { EntitySpec } from '../core/keys';
import {
  changeRecord,
  createRecord,
  deleteRecord,
  getRecord,
  listRecords,
  type Page,
  type WriteResult,
} from '../core/record-store';
import {
  type Change,
  mergePatch,
  type Precondition,
  type PublicRecord,
  type WriteContext,
} from '../core/records';

/** Annotations: simple versioned records any signed-in user may edit. */
export const annotationEntity: EntitySpec = {
  type: 'ANNOTATION',
  fields: ['name', 'description', 'tags'],
};

const name = z.string().check(z.minLength(1), z.maxLength(200));
const description = z.string().check(z.maxLength(5000));
const tags = z.array(z.string().check(z.minLength(1), z.maxLength(50))).check(z.maxLength(20));
const version = z.int().check(z.minimum(1));

export const annotationFieldsSchema = z.strictObject({
  name,
  description: z.optional(description),
  tags: z.optional(tags),
});
export type AnnotationFields = z.infer<typeof annotationFieldsSchema>;

/** `PUT`: the full set of fields, plus the precondition as `version` if not in If-Match. */
export const replaceAnnotationSchema = z.extend(annotationFieldsSchema, { version: z.optional(version) });

/** `PATCH`: JSON Merge Patch; `null` removes an optional field; `name` cannot be removed. */
export const patchAnnotationSchema = z
  .strictObject({
    name: z.optional(name),
    description: z.optional(z.nullable(description)),
    tags: z.optional(z.nullable(tags)),
    version: z.optional(version),
  })
  .check(
    z.refine((patch) => Object.keys(patch).some((key) => key !== 'version'), {
      message: 'The patch changes no field.',
    }),
  );

export const batchSchema = z.strictObject({
  atomic: z._default(z.boolean(), false),
  updates: z
    .array(
      z.strictObject({
        id: z.string().check(z.minLength(1), z.maxLength(64)),
        version,
        set: z
          .partial(annotationFieldsSchema)
          .check(z.refine((set) => Object.keys(set).length > 0, { message: 'set names no field.' })),
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

/** A full replacement: the given fields are set, the optional ones not given are removed. */
const replacement = (fields: AnnotationFields): Change => ({
  set: { ...fields },
  remove: annotationEntity.fields.filter((field) => !(field in fields)),
});

export const createAnnotation = (fields: AnnotationFields, context: WriteContext): Promise<WriteResult> =>
  createRecord(annotationEntity, fields, context);

export const getAnnotation = (id: string, now: Date): Promise<PublicRecord> =>
  getRecord(annotationEntity, id, now);

export const listAnnotations = (options: { limit: number; cursor?: string | undefined }): Promise<Page> =>
  listRecords(annotationEntity, {
    limit: options.limit,
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  });

export const replaceAnnotation = (
  id: string,
  precondition: Precondition,
  fields: AnnotationFields,
  context: WriteContext,
): Promise<WriteResult> => changeRecord(annotationEntity, id, precondition, replacement(fields), context);

export const patchAnnotation = (
  id: string,
  precondition: Precondition,
  patch: Record<string, unknown>,
  context: WriteContext,
): Promise<WriteResult> => changeRecord(annotationEntity, id, precondition, mergePatch(patch), context);

export const deleteAnnotation = (
  id: string,
  precondition: Precondition,
  context: WriteContext,
): Promise<{ replayed: boolean }> => deleteRecord(annotationEntity, id, precondition, context);

/** Partial batches apply item by item; atomic ones in one transaction or not at all. */
export const batchUpdateAnnotations = (
  updates: readonly BatchUpdate[],
  atomic: boolean,
  context: WriteContext,
): Promise<BatchResult> =>
  atomic ? changeAll(annotationEntity, updates, context) : changeEach(annotationEntity, updates, context);
