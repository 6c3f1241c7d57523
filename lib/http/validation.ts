import * as z from 'zod/mini';
import { version } from '../domain/schemas/common';
import { issueDetail } from '../domain/schemas/issue-detail';
import { MalformedRequestError, ValidationError } from '../errors';
import type { FieldError } from '../problems';

/** RFC 6901 JSON Pointer for a path of keys. */
export const jsonPointer = (path: readonly PropertyKey[]): string =>
  path.map((key) => `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

const fieldErrors = (error: z.core.$ZodError): FieldError[] =>
  error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ pointer: jsonPointer([...issue.path, key]), detail: 'Unknown field.' }))
      : [{ pointer: jsonPointer(issue.path), detail: issue.message }],
  );

/** Validates a request body; a mismatch is a 422 whose errors point into the body. */
export const parseBody = <S extends z.ZodMiniType>(schema: S, body: unknown): z.infer<S> => {
  const result = schema.safeParse(body, { error: issueDetail });
  if (!result.success) throw new ValidationError(fieldErrors(result.error));
  return result.data;
};

/** The most characters (code points, as JSON Schema counts them) a list's `q` may have. */
export const SEARCH_TERM_MAX = 64;

/** What a parameter takes, where its name alone does not say. */
const queryRules: Record<string, string> = { q: `1 to ${SEARCH_TERM_MAX} characters` };

/** Validates query parameters; a bad one is a 400 naming the parameter. */
export const parseQuery = <S extends z.ZodMiniType>(
  schema: S,
  query: Record<string, string | undefined>,
): z.infer<S> => {
  const result = schema.safeParse(query);
  if (!result.success) {
    // An unknown parameter is an issue of the whole query that names it in `keys`.
    const names = [
      ...new Set(
        result.error.issues.flatMap((issue) =>
          issue.code === 'unrecognized_keys' ? issue.keys : [String(issue.path[0] ?? 'query')],
        ),
      ),
    ];
    const named = names.map((name) =>
      Object.hasOwn(queryRules, name) ? `${name} (${queryRules[name]})` : name,
    );
    throw new MalformedRequestError(`Bad query parameter: ${named.join(', ')}.`);
  }
  return result.data;
};

/**
 * `?limit=1..100&cursor=` of every listing. The number is read with `Number`, as
 * `z.coerce` would; coerce is not used because it brings zod's bigint and date types along.
 */
export const pageQuerySchema = z.strictObject({
  limit: z._default(
    z.pipe(z.pipe(z.string(), z.transform(Number)), z.int().check(z.minimum(1), z.maximum(100))),
    20,
  ),
  cursor: z.optional(z.string()),
});

/** `?limit&cursor&q=` of a resource's list: `q`, 1-64 characters, searches its name. */
export const listQuerySchema = z.strictObject({
  ...pageQuerySchema.shape,
  q: z.optional(z.string().check(z.refine((q) => q.length > 0 && [...q].length <= SEARCH_TERM_MAX))),
});

/**
 * The body of a versioned DELETE: none at all, or the precondition as `{"version": n}`,
 * which the contract allows in the body of any change, DELETE included.
 */
export const deleteBodySchema = z.optional(z.strictObject({ version: z.optional(version) }));

/** The body of a lock acquire or renew: none, or `{"ttlSeconds": 5..900}`; 120 s if not given. */
export const lockBodySchema = z.pipe(
  z.optional(z.strictObject({ ttlSeconds: z._default(z.int().check(z.minimum(5), z.maximum(900)), 120) })),
  z.transform((body) => body ?? { ttlSeconds: 120 }),
);
