import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration';

/** Failed sign-ins, counted in the database so that every control plane sharing it applies the same limits. */
export const signInThrottlesMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('sign_in_throttles')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('last_failure_at', 'text')
      .addColumn('last_success_at', 'text')
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sign_in_throttles_expires_at').on('sign_in_throttles').column('expires_at').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('sign_in_throttles').ifExists().execute();
  },
};
