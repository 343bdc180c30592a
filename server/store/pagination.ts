/**
 * Opaque cursors for keyset pagination: the sort key of the last item of a page (e.g. `[created_at, id]`),
 * as base64url JSON. Clients pass it back unchanged; it is not a secret, only not meant to be read.
 */
export type CursorKey = ReadonlyArray<string | number>;

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
  constructor() {
    super('the cursor is not one this server returned; pass nextCursor from the previous page unchanged, or omit it');
  }
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key inside a cursor, checked to be `length` strings or numbers; throws InvalidCursorError otherwise. */
export function decodeCursor(cursor: string, length: number): Array<string | number> {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursorError();
  }
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (
    !Array.isArray(key) ||
    key.length !== length ||
    !key.every((part) => typeof part === 'string' || (typeof part === 'number' && Number.isFinite(part)))
  ) {
    throw new InvalidCursorError();
  }
  return key;
}
