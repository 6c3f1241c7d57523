import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Answer, NotModified } from '../../lib/client/answers';
import { explain } from './problems';
import { Field, Notice, Time, usePolling } from './ui';

export interface ListPage<T> {
  items: T[];
  nextCursor?: string | undefined;
}

export interface Column<T> {
  title: string;
  cell: (item: T) => ComponentChildren;
}

interface Listed {
  id: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
}

/** What a list page is asked with: its size, where it starts, the search. */
export interface ListQuery {
  limit: number;
  cursor?: string;
  q?: string;
}

/**
 * A list read a page at a time, newest first, and kept current (the same polling and focus
 * as open records); `pager` moves between its pages.
 */
export const usePaged = <T,>(
  label: string,
  fetch: (query: ListQuery) => Promise<Answer<ListPage<T>> | NotModified>,
  q?: string,
) => {
  // The cursors of the pages before this one, so "Newer" goes back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  // With the search it answers, so a page of another search is never taken for this one.
  const [page, setPage] = useState<ListPage<T> & { q?: string | undefined }>();
  const [error, setError] = useState<string>();
  const cursor = cursors[cursors.length - 1];
  const ask = async () => {
    try {
      const answer = await fetch({ limit: 20, ...(cursor ? { cursor } : {}), ...(q ? { q } : {}) });
      if ('body' in answer) setPage({ ...answer.body, q });
      setError(undefined);
    } catch (failure) {
      setError(explain(failure));
    }
  };
  useEffect(() => setCursors([undefined]), [q]);
  useEffect(() => void ask(), [cursor, q]);
  usePolling(ask, [cursor, q]);
  const pager = (
    <nav class="paging" aria-label={`${label} pages`}>
      <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
        Newer
      </button>
      <span>Page {cursors.length}</span>
      <button
        type="button"
        disabled={!page?.nextCursor}
        onClick={() => setCursors([...cursors, page?.nextCursor])}
      >
        Older
      </button>
    </nav>
  );
  return { page, error, pager, reload: ask };
};

/**
 * A resource's list: newest first, a page at a time, searched by a word of its name when
 * the API takes `q`. Every row says when it was last changed, by whom, and its version.
 */
export const ListView = <T extends Listed>({
  label,
  fetch,
  searchLabel,
  href,
  columns,
}: {
  /** What the table lists: "Annotations". */
  label: string;
  fetch: (query: ListQuery) => Promise<Answer<ListPage<T>> | NotModified>;
  /** The search field's label; none when the list cannot be searched. */
  searchLabel?: string;
  href: (item: T) => string;
  columns: Column<T>[];
}) => {
  const [typed, setTyped] = useState('');
  const [q, setQ] = useState<string>();
  const { page, error, pager } = usePaged(label, fetch, q);
  return (
    <section aria-label={label}>
      {searchLabel ? (
        <form
          class="inline search"
          aria-label={`Search ${label.toLowerCase()}`}
          onSubmit={(event) => {
            event.preventDefault();
            setQ(typed.trim() || undefined);
          }}
        >
          <Field label={searchLabel}>
            <input type="search" value={typed} onInput={(event) => setTyped(event.currentTarget.value)} />
          </Field>
          <button type="submit">Search</button>
        </form>
      ) : null}
      <Notice error={error} />
      {q && page?.q === q ? (
        <p class="meta" role="status">
          {page.items.length === 0 ? `Nothing found for “${q}”.` : `Found for “${q}”:`}
        </p>
      ) : null}
      {page && page.items.length === 0 ? (
        q ? null : (
          <p>Nothing here yet.</p>
        )
      ) : (
        <table class="list" aria-label={label}>
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column.title} scope="col">
                  {column.title}
                </th>
              ))}
              <th scope="col">Last changed</th>
              <th scope="col">By</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {(page?.items ?? []).map((item) => (
              <tr key={item.id}>
                {columns.map((column, index) => (
                  <td key={column.title} data-label={column.title}>
                    {index === 0 ? <a href={href(item)}>{column.cell(item)}</a> : column.cell(item)}
                  </td>
                ))}
                <td data-label="Last changed">
                  <Time iso={item.updatedAt} />
                </td>
                <td data-label="By">{item.updatedBy}</td>
                <td data-label="Version">{item.version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pager}
    </section>
  );
};
