import type { Kysely } from 'kysely';
import type { StoreDialect } from '../store';

/**
 * A schema change, written with Kysely's schema builder so that one migration serves both dialects.
 * `dialect` is there for the few places that differ (autoincrement columns).
 * Migrations take `Kysely<any>` on purpose: they run against the schema as it was, not as `Database` says it is now.
 */
export interface StoreMigration {
  // biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
  up(db: Kysely<any>, dialect: StoreDialect): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  down(db: Kysely<any>, dialect: StoreDialect): Promise<void>;
}
