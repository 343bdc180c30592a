/**
 * A transaction that holds named locks until it ends, so that read-decide-write sequences (a sign-in attempt
 * counted against a limit, the first start creating the first admin) are atomic across requests and across
 * control-plane processes sharing the database.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema';
import type { StoreDialect } from './store';

/**
 * Runs `fn` in one transaction holding every lock in `names`:
 * - PostgreSQL: transaction-scoped advisory locks on a 64-bit hash of each name, taken in sorted order so that two
 *   callers wanting overlapping sets never deadlock. A hash collision only makes two unrelated names wait for each
 *   other.
 * - SQLite: the database's write lock, taken at BEGIN (BEGIN IMMEDIATE), which covers every name at once. A
 *   deferred BEGIN would take it at the first write, after the reads the decision rests on, and another process
 *   could write in between.
 * `fn` must do all its queries through the `trx` it is given (on SQLite the store has one connection, which
 * this transaction holds).
 */
export async function lockedTransaction<T>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  names: readonly string[],
  fn: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') {
    const sorted = [...new Set(names)].sort();
    return db.transaction().execute(async (trx) => {
      for (const name of sorted) await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(trx);
      return fn(trx);
    });
  }
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    let result: T;
    try {
      result = await fn(conn);
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
    await sql`commit`.execute(conn);
    return result;
  });
}

/**
 * Runs `fn` unless another process runs it under the same name right now, in which case it returns undefined at
 * once: for periodic sweeps that every replica schedules and one at a time should do (the others skip a round).
 * - PostgreSQL: a session-level advisory lock taken with pg_try_advisory_lock on a connection pinned for the run
 *   and released after it; a replica that dies mid-sweep loses its connection and with it the lock.
 * - SQLite: one process owns the file, so `fn` always runs. It runs outside any transaction: `fn` uses the store
 *   freely (on SQLite the store has one connection, which a transaction here would hold).
 */
export async function exclusively<T>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  name: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  if (dialect !== 'postgres') return fn();
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(hashtextextended(${name}, 0)) as locked`.execute(conn);
    if (!rows[0]?.locked) return undefined;
    try {
      return await fn();
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${name}, 0))`.execute(conn);
    }
  });
}
