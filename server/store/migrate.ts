import { type Kysely, type Migration, type MigrationResult, Migrator, sql } from 'kysely';
import { STORE_MIGRATIONS } from './migrations/migration-list';
import type { StoreMigration } from './migrations/store-migration';
import type { Database } from './schema';
import type { StoreDialect } from './store';

/** Kysely's bookkeeping tables (kept apart from ours by name). */
const MIGRATION_TABLE = 'portcullis_migrations';
const MIGRATION_LOCK_TABLE = 'portcullis_migrations_lock';

export class StoreMigrationError extends Error {
  override name = 'StoreMigrationError';
}

// Kysely runs PostgreSQL migrations in a transaction but not SQLite ones (its adapter says SQLite has no
// transactional DDL, which it does have); wrapping each one keeps a failed migration from leaving half a schema.
// On SQLite it is a savepoint, inside the transaction that migrateToLatest holds for the whole run.
function toKyselyMigration(migration: StoreMigration, dialect: StoreDialect): Migration {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  const wrap = (step: (db: Kysely<any>, dialect: StoreDialect) => Promise<void>) => async (db: Kysely<any>) => {
    if (dialect === 'postgres') return step(db, dialect);
    await sql`savepoint migration`.execute(db);
    try {
      await step(db, dialect);
      await sql`release migration`.execute(db);
    } catch (error) {
      await sql`rollback to migration`.execute(db);
      await sql`release migration`.execute(db);
      throw error;
    }
  };
  return { up: wrap(migration.up), down: wrap(migration.down) };
}

function migrator(db: Kysely<Database>, dialect: StoreDialect): Migrator {
  const migrations = Object.fromEntries(Object.entries(STORE_MIGRATIONS).map(([name, m]) => [name, toKyselyMigration(m, dialect)]));
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
}

/**
 * Applies every migration not yet applied, in name order; a no-op when the schema is current.
 * Safe to run from several processes at once: on PostgreSQL Kysely takes a lock; on SQLite, where Kysely's lock
 * does nothing (it counts on one process), the run holds the database's write lock, so a second process waits
 * and then finds the migrations applied. Returns the names it applied.
 */
export async function migrateToLatest(db: Kysely<Database>, dialect: StoreDialect): Promise<string[]> {
  const run = () => migrator(db, dialect).migrateToLatest();
  const { error, results } = dialect === 'sqlite' ? await underSqliteWriteLock(db, run) : await run();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreMigrationError(
      `migrating the ${dialect} store failed${failed ? ` at ${failed}` : ''}: ${reason}. ` +
        'The store was left at the last migration that succeeded; fix the cause and start again.',
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

// A migration that fails is rolled back to its savepoint and reported in the result: the ones before it are kept,
// so the result is committed either way.
async function underSqliteWriteLock<T>(db: Kysely<Database>, fn: () => Promise<T>): Promise<T> {
  await sql`begin immediate`.execute(db);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    await sql`rollback`.execute(db);
    throw error;
  }
  await sql`commit`.execute(db);
  return result;
}

/** Names of the migrations applied to this database, in order. */
export async function appliedMigrations(db: Kysely<Database>, dialect: StoreDialect): Promise<string[]> {
  const all = await migrator(db, dialect).getMigrations();
  return all.filter((m) => m.executedAt !== undefined).map((m) => m.name);
}
