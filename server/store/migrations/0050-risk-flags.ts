import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration';

/**
 * Risk flags of recorded commands (gateway/risk/): one row per flag, pointing at its log event, so that sessions
 * can be listed by flag; and per session, how many flags and how many of high severity, for the session list.
 */
export const riskFlagsMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('session_flags')
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'bigint', (c) => c.notNull())
      .addColumn('flag', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('session_flags_pk', ['event_id', 'flag'])
      .execute();
    await db.schema.createIndex('session_flags_flag_session').on('session_flags').columns(['flag', 'session_id']).execute();
    await db.schema.createIndex('session_flags_session').on('session_flags').column('session_id').execute();
    await db.schema
      .alterTable('sessions')
      .addColumn('flag_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('sessions')
      .addColumn('high_flag_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('sessions').dropColumn('high_flag_count').execute();
    await db.schema.alterTable('sessions').dropColumn('flag_count').execute();
    await db.schema.dropTable('session_flags').ifExists().execute();
  },
};
