import { etagOf } from '../etag';

/** What a handler returns: API Gateway v2's result shape, with string header values. */
export interface ApiResult {
  statusCode: number;
  headers: Record<string, string>;
  body?: string;
  /** The body is base64 of its bytes (a gzip), as API Gateway takes a binary answer. */
  isBase64Encoded?: boolean;
}

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export const noContent = (headers: Record<string, string> = {}): ApiResult => ({ statusCode: 204, headers });

/** `Idempotent-Replayed: true` on an answer that repeats a request already applied. */
export const replayHeaders = (replayed: boolean): Record<string, string> =>
  replayed ? { 'Idempotent-Replayed': 'true' } : {};

/** A response carrying a versioned record (as its body, or inside `body`): always with its strong ETag. */
export const recordResult = (
  statusCode: number,
  record: { version: number },
  options: {
    replayed?: boolean;
    /** The version this request wrote, when the record answered is as others left it since. */
    appliedVersion?: number | undefined;
    headers?: Record<string, string>;
    body?: unknown;
  } = {},
): ApiResult =>
  json(statusCode, options.body ?? record, {
    ETag: etagOf(record.version),
    ...replayHeaders(options.replayed ?? false),
    ...(options.appliedVersion === undefined ? {} : { 'Applied-Version': String(options.appliedVersion) }),
    ...options.headers,
  });

/** A GET's answer: 304 with the ETag when `If-None-Match` names this version, else the record. */
export const readResult = (
  record: { version: number },
  notModified: (version: number) => boolean,
): ApiResult =>
  notModified(record.version)
    ? { statusCode: 304, headers: { ETag: etagOf(record.version) } }
    : recordResult(200, record);
