import { createHash } from 'node:crypto';
import type { ExpressionBuilder } from './expression';
import type { EntitySpec } from './keys';

/**
 * A list's `q`: the item keeps a folded copy of its name field (an article: its SKU and
 * description) in one attribute, written with the field, and a search is a `contains` on it
 * in the listing Query's FilterExpression. DynamoDB compares case-sensitively; the copy and
 * the term are folded alike, so the match is not.
 */
export const SEARCH = 'search';

/** Query requests one search page sends at most, one after the other. */
export const SEARCH_QUERIES = 3;
/** Index items each of them reads at most (its Limit, counted before the filter). */
export const SEARCH_QUERY_ITEMS = 100;

/**
 * NFKC, then upper and lower case (so `ß` meets `SS` and `ς` meets `σ`, as Unicode case
 * folding has it), control characters as spaces: no folded text holds the `\n` that parts
 * the fields of one copy, so a term never matches across two fields.
 */
export const foldForSearch = (text: string): string =>
  text
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .replaceAll('ς', 'σ')
    .replace(/\p{Cc}/gu, ' ');

/** The folded copy of a record's searched field (and id), as its item keeps it. */
export const searchCopy = (entity: EntitySpec, id: string, value: string): string =>
  [...(entity.search?.withId ? [id] : []), value].map(foldForSearch).join('\n');

/** The SET and REMOVE clauses that keep the copy in step with a write of the searched field. */
export const searchUpdate = (
  x: ExpressionBuilder,
  entity: EntitySpec,
  id: string,
  set: Record<string, unknown>,
  removed: readonly string[],
): { set: string[]; remove: string[] } => {
  const field = entity.search?.field;
  if (field === undefined) return { set: [], remove: [] };
  const value = set[field];
  if (typeof value === 'string')
    return { set: [`${x.name(SEARCH)} = ${x.value(searchCopy(entity, id, value))}`], remove: [] };
  return { set: [], remove: removed.includes(field) ? [x.name(SEARCH)] : [] };
};

/** The item attributes of a new record's copy; none for an entity without a search. */
export const searchAttributes = (entity: EntitySpec, id: string, fields: Record<string, unknown>) => {
  const value = entity.search && fields[entity.search.field];
  return typeof value === 'string' ? { [SEARCH]: searchCopy(entity, id, value) } : {};
};

export interface ListSearch {
  /** The FilterExpression of each listing Query. */
  filter: (x: ExpressionBuilder) => string;
  /** What a cursor of this search carries beside its start key, so it serves this search only. */
  mark: Record<string, string>;
}

/**
 * A search for `q`. An item written before the copy existed has none: it is matched on the
 * stored field (and id) as written, case-sensitively, until its field is written again.
 */
export const listSearch = (entity: EntitySpec, q: string): ListSearch => {
  const search = entity.search;
  if (!search) throw new Error(`${entity.type} has no search.`);
  const term = foldForSearch(q);
  return {
    filter: (x) => {
      const raw = x.value(q);
      const asStored = [search.field, ...(search.withId ? ['id'] : [])]
        .map((field) => `contains(${x.name(field)}, ${raw})`)
        .join(' OR ');
      return `contains(${x.name(SEARCH)}, ${x.value(term)}) OR (attribute_not_exists(${x.name(SEARCH)}) AND (${asStored}))`;
    },
    mark: { q: createHash('sha256').update(term).digest('base64url').slice(0, 22) },
  };
};
