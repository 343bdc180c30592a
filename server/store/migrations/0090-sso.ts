import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration';

/**
 * Single sign-on (server/sso/): the identities an OpenID Provider vouched for, linked to users; the sign-ins in
 * progress (between the browser leaving for the provider and the client collecting its token); and, on sign-in
 * tokens, when the provider asserted MFA (null: it did not, or the token came from a password).
 */
export const ssoMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('sso_identities')
      .addColumn('issuer', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('groups', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_sign_in_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('sso_identities_pk', ['issuer', 'subject'])
      .execute();
    await db.schema.createIndex('sso_identities_user').on('sso_identities').column('user_id').execute();
    await db.schema
      .createTable('sso_flows')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text')
      .addColumn('client_state', 'text')
      .addColumn('code_challenge', 'text')
      .addColumn('idp_redirect_uri', 'text')
      .addColumn('device_code_hash', 'text', (c) => c.unique())
      .addColumn('user_code', 'text', (c) => c.unique())
      .addColumn('result_code_hash', 'text', (c) => c.unique())
      .addColumn('user_id', 'text')
      .addColumn('idp_mfa_at', 'text')
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sso_flows_expires').on('sso_flows').column('expires_at').execute();
    await db.schema.alterTable('api_tokens').addColumn('idp_mfa_at', 'text').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('api_tokens').dropColumn('idp_mfa_at').execute();
    await db.schema.dropTable('sso_flows').ifExists().execute();
    await db.schema.dropTable('sso_identities').ifExists().execute();
  },
};
