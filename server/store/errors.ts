/**
 * Recognising constraint violations the same way on both dialects: better-sqlite3 raises SqliteError with an
 * extended result code, pg raises DatabaseError with a SQLSTATE.
 */
function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A unique or primary-key constraint refused the write (e.g. a duplicate email, resource name, account name). */
export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A foreign key refused the write: a missing parent, or deleting a parent that restricts (a gateway with resources). */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = codeOf(error);
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return true;
  // SQLite reports ON DELETE RESTRICT through its trigger machinery, with the foreign-key message.
  return code === 'SQLITE_CONSTRAINT_TRIGGER' && /FOREIGN KEY constraint failed/.test(String((error as Error).message));
}
