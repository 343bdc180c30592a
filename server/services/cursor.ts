/**
 * Opaque list cursors: the sort key of the last item of a page, as base64url JSON. A client passes it back
 * unchanged; anything else is refused with a clear message.
 */
import { invalid } from './service-error';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export function encodeCursor(key: Array<string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key in a cursor, checked against the expected types (`'s'` string, `'n'` number). */
export function decodeCursor(cursor: string, types: ReadonlyArray<'s' | 'n'>): Array<string | number> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const ok =
    Array.isArray(key) &&
    key.length === types.length &&
    key.every((v, i) => (types[i] === 's' ? typeof v === 'string' : typeof v === 'number' && Number.isFinite(v)));
  if (!ok) throw invalid('cursor: not a cursor this list returned; start again without it');
  return key as Array<string | number>;
}

/** Splits the `limit + 1` rows a query fetched into a page and the next cursor. */
export function pageOf<Row, Item>(rows: Row[], limit: number, toItem: (row: Row) => Item, keyOf: (row: Row) => Array<string | number>) {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(toItem),
    ...(more && last !== undefined ? { nextCursor: encodeCursor(keyOf(last)) } : {}),
  };
}
