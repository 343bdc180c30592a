import type { Kysely } from 'kysely';
import type { Database } from './schema';

export type StoreDialect = 'sqlite' | 'postgres';

/** The control plane's database, opened and migrated by `openStore`. */
export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Closes the SQLite file or drains the PostgreSQL pool. Idempotent. */
  close(): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Like `transaction`, holding the named locks until it ends (see ./locked-transaction): for a read, a decision
   * and a write that must not interleave with another request's, here or in another control-plane process.
   */
  lockedTransaction<T>(names: readonly string[], fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` unless another control-plane process is running it under `name` (then undefined, at once): periodic
   * sweeps done by one replica at a time (see ./locked-transaction).
   */
  exclusively<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;
}
