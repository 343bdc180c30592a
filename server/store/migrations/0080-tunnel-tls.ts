import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration';

/**
 * End-to-end encryption of relayed streams (tunnel/tls.ts): the gateway's tunnel certificate as it last presented
 * it, and per session the two fingerprints the control plane vouched for when it started.
 */
export const tunnelTlsMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('gateways').addColumn('tunnel_certificate', 'text').execute();
    await db.schema.alterTable('gateways').addColumn('tunnel_fingerprint', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('tunnel_client_fingerprint', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('tunnel_gateway_fingerprint', 'text').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('sessions').dropColumn('tunnel_gateway_fingerprint').execute();
    await db.schema.alterTable('sessions').dropColumn('tunnel_client_fingerprint').execute();
    await db.schema.alterTable('gateways').dropColumn('tunnel_fingerprint').execute();
    await db.schema.alterTable('gateways').dropColumn('tunnel_certificate').execute();
  },
};
