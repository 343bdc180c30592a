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
}
