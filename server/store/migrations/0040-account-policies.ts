import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration';

/**
 * Account policies (what a session on the account may do, enforced by the gateway) as one JSON document per
 * account, null for the default (read-write, any database, nothing denied); and the reason a session was opened for.
 */
export const accountPoliciesMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('accounts').addColumn('policy', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('reason', 'text').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('sessions').dropColumn('reason').execute();
    await db.schema.alterTable('accounts').dropColumn('policy').execute();
  },
};
