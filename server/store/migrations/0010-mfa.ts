import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration';

/** Tables for multi-factor authentication (server/mfa/mfa-schema.ts describes them). */
export const mfaMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('user_totp')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('secret_enc', 'text', (c) => c.notNull())
      .addColumn('confirmed_at', 'text')
      .addColumn('last_used_step', 'integer')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    // No foreign keys: like sessions, a challenge is a record of what happened.
    await db.schema
      .createTable('mfa_challenges')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('code_hash', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .execute();
    await db.schema.createIndex('mfa_challenges_user_created').on('mfa_challenges').columns(['user_id', 'created_at']).execute();

    await db.schema
      .createTable('mfa_failures')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('context', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('mfa_failures_user_time').on('mfa_failures').columns(['user_id', 'time']).execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('mfa_failures').ifExists().execute();
    await db.schema.dropTable('mfa_challenges').ifExists().execute();
    await db.schema.dropTable('user_totp').ifExists().execute();
  },
};
