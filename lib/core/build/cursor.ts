import { MalformedRequestError } from '../../errors';

/** What a listing accepts as its start key. */
export interface CursorShape {
  /** The key attributes of the start key: exactly these, no more, no fewer. */
  attributes: readonly string[];
  /** Attributes with one possible value, such as the partition being listed. */
  fixed?: Record<string, string>;
  /**
   * Attributes whose value must begin with a prefix, such as a sort key the key condition
   * limits with `begins_with`: DynamoDB refuses a start key outside the queried range.
   */
  prefixes?: Record<string, string>;
}

/**
 * DynamoDB's limit for a sort key, well above any key this API writes. Partition keys may
 * be twice as long, but no key of ours comes near either limit.
 */
const MAX_KEY_BYTES = 1024;

// JSON can spell lone surrogates; the SDK would send them as U+FFFD, another key.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** The answer to any cursor this API did not hand out: a 400, never a DynamoDB error. */
export const invalidCursorError = (): MalformedRequestError =>
  new MalformedRequestError('The cursor is not one this API handed out.');

/** An opaque page cursor: the DynamoDB start key, base64url-encoded JSON. */
export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

// DynamoDB answers an empty or oversized key value with a ValidationException, a 500 here.
const isKeyValue = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length > 0 &&
  Buffer.byteLength(value, 'utf8') <= MAX_KEY_BYTES &&
  !LONE_SURROGATE.test(value);

/**
 * Decodes a cursor made by `encodeCursor` and checks it names exactly the expected key
 * attributes, each a non-empty string within DynamoDB's key size, with the fixed values
 * and prefixes the listing asks for, so a forged cursor can neither steer the query
 * elsewhere nor make DynamoDB refuse it. Anything else is a 400 MALFORMED_REQUEST.
 */
export const decodeCursor = (
  cursor: string | undefined,
  expected: CursorShape,
): Record<string, string> | undefined => {
  if (cursor === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw invalidCursorError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursorError();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidCursorError();
  const entries = Object.entries(parsed);
  const names = entries.map(([name]) => name).sort();
  if (names.join('\n') !== [...expected.attributes].sort().join('\n')) throw invalidCursorError();
  if (!entries.every(([, value]) => isKeyValue(value))) throw invalidCursorError();
  const key = parsed as Record<string, string>;
  for (const [name, value] of Object.entries(expected.fixed ?? {})) {
    if (key[name] !== value) throw invalidCursorError();
  }
  for (const [name, prefix] of Object.entries(expected.prefixes ?? {})) {
    if (!key[name]?.startsWith(prefix)) throw invalidCursorError();
  }
  return key;
};
