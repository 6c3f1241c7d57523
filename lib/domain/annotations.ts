import type { EntitySpec } from '../core/build/keys';
import { type Change, mergePatch, type PublicRecord, type WriteContext } from '../core/build/records';
import type { Precondition } from '../core/build/version';
import { type BatchResult, type BatchUpdate, changeAll, changeEach } from '../core/features/records/batch';
import {
  changeRecord,
  createRecord,
  deleteRecord,
  listOf,
  type WriteResult,
} from '../core/features/records/store';
import { getRecord } from '../core/send/reads';
import type { AnnotationFields } from './schemas/annotations';

/** Annotations: simple versioned records any signed-in user may edit. */
export const annotationEntity: EntitySpec = {
  type: 'ANNOTATION',
  fields: ['name', 'description', 'tags'],
  search: { field: 'name' },
};

/** A full replacement: the given fields are set, the optional ones not given are removed. */
const replacement = (fields: AnnotationFields): Change => ({
  set: { ...fields },
  remove: annotationEntity.fields.filter((field) => !(field in fields)),
});

export const createAnnotation = (fields: AnnotationFields, context: WriteContext): Promise<WriteResult> =>
  createRecord(annotationEntity, fields, context);

export const getAnnotation = (id: string, now: Date): Promise<PublicRecord> =>
  getRecord(annotationEntity, id, now);

export const listAnnotations = listOf(annotationEntity);

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
