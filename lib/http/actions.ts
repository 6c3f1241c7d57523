import type * as z from 'zod/mini';
import type { GroupPatch } from '../core/field-groups';
import type { PublicRecord, WriteContext } from '../core/records';
import type { Action } from './handler';
import { notModified, pathParameter, queryParameters, writeContextOf } from './request';
import { json, readResult, recordResult } from './response';
import { listQuerySchema, parseBody, parseQuery } from './validation';

/**
 * The actions every resource has in the same shape, so each function file only spells out
 * what is its own.
 */

/** `POST /{resource}`: validate, create, 201 with Location and ETag (a replay says so). */
export const createAction =
  <S extends z.ZodMiniType>(
    resource: string,
    schema: S,
    create: (
      input: z.infer<S>,
      context: WriteContext,
    ) => Promise<{ record: PublicRecord; replayed: boolean }>,
  ): Action =>
  async (request) => {
    const input = parseBody(schema, request.body);
    const { record, replayed } = await create(input, writeContextOf(request));
    return recordResult(201, record, { replayed, headers: { Location: `/${resource}/${record.id}` } });
  };

/** `GET /{resource}/{id}`: the record with its ETag, or 304 when If-None-Match names it. */
export const getAction =
  (get: (id: string, now: Date) => Promise<{ version: number }>): Action =>
  async (request) => {
    const record = await get(pathParameter(request, 'id'), request.now);
    return readResult(record, (version) => notModified(request, version));
  };

/** `GET /{resource}?limit&cursor&q`: one page, of the records whose name holds `q` if given. */
export const listAction =
  (list: (query: z.infer<typeof listQuerySchema>) => Promise<unknown>): Action =>
  async (request) =>
    json(200, await list(parseQuery(listQuerySchema, queryParameters(request))));

/** `PATCH /{resource}/{id}` of a field-group entity: `{record, groups}` with the record's ETag. */
export const groupPatchAction =
  (
    schema: z.ZodMiniType<GroupPatch>,
    patch: (
      id: string,
      patch: GroupPatch,
      roles: readonly string[],
      context: WriteContext,
    ) => Promise<{ record: PublicRecord; groups: Record<string, string>; replayed: boolean }>,
  ): Action =>
  async (request) => {
    const input = parseBody(schema, request.body);
    const result = await patch(
      pathParameter(request, 'id'),
      input,
      request.principal.roles,
      writeContextOf(request),
    );
    const { record, groups, replayed } = result;
    return recordResult(200, record, { body: { record, groups }, replayed });
  };
