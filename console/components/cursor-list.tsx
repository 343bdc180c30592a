/**
 * Lists page with the API's cursors: the current page's cursor, the ones before it (for Previous), and the
 * `nextCursor` the API gave (for Next). A change of filters starts again at the first page.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Page } from '../../protocol/api';
import { errorText } from '../api/console-api';
import { ErrorMessage } from './messages';
import { type Column, TableHead } from './table-head';

export interface CursorList<T> {
  items: T[];
  loading: boolean;
  error: string | undefined;
  hasNext: boolean;
  hasPrevious: boolean;
  pageNumber: number;
  next(): void;
  previous(): void;
  reload(): void;
}

export function useCursorList<T>(load: (cursor: string | undefined) => Promise<Page<T>>, key: string): CursorList<T> {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState<Page<T>>({ items: [] });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [reloads, setReloads] = useState(0);
  // New filters: back to the first page.
  useEffect(() => setCursors([undefined]), [key]);
  const cursor = cursors[cursors.length - 1];
  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    load(cursor).then(
      (result) => {
        if (cancelled) return;
        setPage(result);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (cancelled) return;
        setError(errorText(e));
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [cursor, key, reloads]);
  return {
    items: page.items,
    loading,
    error,
    hasNext: page.nextCursor !== undefined,
    hasPrevious: cursors.length > 1,
    pageNumber: cursors.length,
    next: useCallback(() => page.nextCursor && setCursors((c) => [...c, page.nextCursor]), [page.nextCursor]),
    previous: useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), []),
    reload: useCallback(() => setReloads((n) => n + 1), []),
  };
}

/** The list's state around its table, and Previous/Next under it. */
export function ListFrame<T>({
  list,
  label,
  empty,
  children,
}: {
  list: CursorList<T>;
  label: string;
  empty: string;
  children: ComponentChildren;
}) {
  return (
    <div class="list" aria-busy={list.loading}>
      {list.error && <ErrorMessage text={list.error} />}
      {!list.error && !list.loading && list.items.length === 0 && list.pageNumber === 1 ? <p class="empty">{empty}</p> : children}
      <nav class="pager" aria-label={`${label} pages`}>
        <button type="button" onClick={list.previous} disabled={!list.hasPrevious}>
          Previous page
        </button>
        <span aria-live="polite">Page {list.pageNumber}</span>
        <button type="button" onClick={list.next} disabled={!list.hasNext}>
          Next page
        </button>
      </nav>
    </div>
  );
}

/** A paged list as a table: its head, one row per item (`row`), and the pager. */
export function ListTable<T>(props: {
  list: CursorList<T>;
  label: string;
  empty: string;
  caption: string;
  columns: readonly Column[];
  row(item: T): JSX.Element;
}) {
  return (
    <ListFrame list={props.list} label={props.label} empty={props.empty}>
      <table>
        <TableHead caption={props.caption} columns={props.columns} />
        <tbody>{props.list.items.map(props.row)}</tbody>
      </table>
    </ListFrame>
  );
}
