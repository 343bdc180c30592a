import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration';

/**
 * Control-plane replicas sharing the database: each registers the address gateways reach it at and renews a lease
 * on every heartbeat, so that gateways learn the live replicas and keep a control channel to each.
 */
export const replicasMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('replicas')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('lease_expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('replicas_lease_expires_at').on('replicas').column('lease_expires_at').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('replicas').ifExists().execute();
  },
};
