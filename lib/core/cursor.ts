import { MalformedRequestError } from '../errors';

/** An opaque page cursor: the DynamoDB start key, base64url-encoded JSON. */
export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

/**
 * Decodes a cursor made by `encodeCursor` and checks it names exactly the expected key
 * attributes, all strings, so a forged cursor cannot steer the query elsewhere.
 */
export const decodeCursor = (
  cursor: string | undefined,
  expected: { attributes: readonly string[]; fixed?: Record<string, string> },
): Record<string, string> | undefined => {
  if (cursor === undefined) return undefined;
  const invalid = new MalformedRequestError('The cursor is not one this API handed out.');
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid;
  const entries = Object.entries(parsed);
  const names = entries.map(([name]) => name).sort();
  if (names.join('\n') !== [...expected.attributes].sort().join('\n')) throw invalid;
  if (!entries.every(([, value]) => typeof value === 'string')) throw invalid;
  const key = parsed as Record<string, string>;
  for (const [name, value] of Object.entries(expected.fixed ?? {})) {
    if (key[name] !== value) throw invalid;
  }
  return key;
};
