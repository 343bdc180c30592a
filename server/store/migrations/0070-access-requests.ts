import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration';

/**
 * Access requests (server/sessions/access-requests.ts): an account whose policy requires approval gets a request per
 * user; an admin's approval turns it into a grant with a time box, under which sessions start (sessions point back
 * at it).
 */
export const accessRequestsMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('access_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('resource_name', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('account_name', 'text', (c) => c.notNull())
      .addColumn('requester_user_id', 'text', (c) => c.notNull())
      .addColumn('requester_email', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('duration_seconds', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('decided_at', 'text')
      .addColumn('decided_by_user_id', 'text')
      .addColumn('decided_by_email', 'text')
      .addColumn('note', 'text')
      .addColumn('grant_expires_at', 'text')
      .addColumn('sessions', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex('access_requests_project_state')
      .on('access_requests')
      .columns(['project_id', 'state', 'created_at'])
      .execute();
    await db.schema
      .createIndex('access_requests_requester_account')
      .on('access_requests')
      .columns(['requester_user_id', 'account_id', 'state'])
      .execute();
    await db.schema.alterTable('sessions').addColumn('access_request_id', 'text').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('sessions').dropColumn('access_request_id').execute();
    await db.schema.dropTable('access_requests').ifExists().execute();
  },
};
