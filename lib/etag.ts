/**
 * The ETag of a versioned record, in one place for the server and the client: the strong tag
 * `"<version>"`, how `If-Match` and `If-None-Match` name versions, and how an answer's ETag
 * is read back.
 */

/** A version as its ETag: `"3"`. */
export const etagOf = (version: number): string => `"${version}"`;

/** One of this API's ETags: a version from 1 to 15 digits, in quotes. */
export const ETAG_PATTERN = /^"([1-9][0-9]{0,14})"$/;

/** Any well-formed entity tag (RFC 9110), strong or weak: `If-Match` takes one. */
export const ENTITY_TAG_PATTERN = /^(W\/)?"[\x21\x23-\x7E\x80-\xFF]*"$/;

/** The version an ETag of this API names; undefined for any other tag (`"0"`, `"x"`, a weak one). */
export const versionOfEtag = (tag: string | null | undefined): number | undefined => {
  const match = ETAG_PATTERN.exec(tag?.trim() ?? '');
  return match?.[1] ? Number(match[1]) : undefined;
};

/**
 * An `If-Match` value: `*` (whatever version is stored), the version one of this API's ETags
 * names, `'none'` for a well-formed tag that names no version (it matches nothing), or
 * undefined for a value that is no single entity tag at all.
 */
export const parseIfMatch = (value: string): '*' | number | 'none' | undefined => {
  const trimmed = value.trim();
  if (trimmed === '*') return '*';
  const version = versionOfEtag(trimmed);
  if (version !== undefined) return version;
  return ENTITY_TAG_PATTERN.test(trimmed) ? 'none' : undefined;
};

/**
 * Whether an `If-None-Match` value names this entity tag: `*`, or a list of tags one of which,
 * weak or strong (If-None-Match compares weakly), is it. For records and for the document.
 */
export const namesTag = (ifNoneMatch: string, etag: string): boolean =>
  ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);

/** Whether an `If-None-Match` value names this version (its ETag). */
export const namesVersion = (ifNoneMatch: string, version: number): boolean =>
  namesTag(ifNoneMatch, etagOf(version));
