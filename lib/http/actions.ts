import type * as z from 'zod/mini';
import type { PublicRecord, WriteContext } from '../core/build/records';
import type { Precondition } from '../core/build/version';
import type { GroupPatch } from '../core/features/field-groups/groups';
import type { Action } from './handler';
import {
  type ApiRequest,
  notModified,
  pathParameter,
  preconditionOf,
  queryParameters,
  writeContextOf,
} from './request';
import { type ApiResult, json, readResult, recordResult } from './response';
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

/** What a change of a versioned record is made from: the ids its path names, its precondition, its body, its writer. */
export interface VersionedChange<B> {
  id: string;
  /** The second id of the path, where it has one (an order's `lineId`). */
  childId: string;
  precondition: Precondition;
  input: B;
  context: WriteContext;
  request: ApiRequest;
}

/**
 * A change of a versioned record (or of an order's lines), in the one shape they all have:
 * the body parsed, the precondition taken from `If-Match` or the body's `version` (both and
 * different: 400; neither: 428), one call into lib, its answer. A body-less route (a
 * delete) takes its version from an optional body.
 */
export const versionedAction =
  <S extends z.ZodMiniType>(
    schema: S,
    change: (made: VersionedChange<Omit<NonNullable<z.infer<S>>, 'version'>>) => Promise<ApiResult>,
  ): Action =>
  async (request) => {
    const { version, ...input } = (parseBody(schema, request.body) ?? {}) as { version?: number };
    return change({
      id: pathParameter(request, 'id'),
      get childId() {
        return pathParameter(request, 'lineId');
      },
      precondition: preconditionOf(request, version),
      input: input as Omit<NonNullable<z.infer<S>>, 'version'>,
      context: writeContextOf(request),
      request,
    });
  };
