import { type Kysely, sql } from 'kysely';
import type { StoreDialect } from '../store';
import type { StoreMigration } from './store-migration';

// Flags are integers; the check keeps a stray 2 or -1 out on both dialects.
const flag = (column: string) => sql`${sql.ref(column)} in (0, 1)`;

// biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
async function up(db: Kysely<any>, dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('api_tokens_user_id').on('api_tokens').column('user_id').execute();

  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('data_key_wrapped', 'text', (c) => c.notNull())
    .addColumn('mfa_enforced_method', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('project_members')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_members_pk', ['project_id', 'user_id'])
    .execute();
  // "Which projects is this user in" is asked on every request.
  await db.schema.createIndex('project_members_user_id').on('project_members').column('user_id').execute();

  await db.schema
    .createTable('gateway_enrollment_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('gateway_id', 'text')
    .execute();
  await db.schema.createIndex('gateway_enrollment_tokens_project_id').on('gateway_enrollment_tokens').column('project_id').execute();

  await db.schema
    .createTable('gateways')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('credential_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text')
    .addColumn('connected', 'integer', (c) => c.notNull().defaultTo(0).check(flag('connected')))
    .addColumn('version', 'text')
    .execute();
  await db.schema.createIndex('gateways_project_id').on('gateways').column('project_id').execute();

  await db.schema
    .createTable('resources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id').onDelete('restrict'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('connection_string', 'text', (c) => c.notNull())
    .addColumn('auth_database', 'text', (c) => c.notNull())
    .addColumn('tls_enabled', 'integer', (c) => c.notNull().check(flag('tls_enabled')))
    .addColumn('tls_reject_unauthorized', 'integer', (c) => c.notNull().check(flag('tls_reject_unauthorized')))
    .addColumn('ca_certificate_enc', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('resources_project_id_name_unique', ['project_id', 'name'])
    .execute();
  // The restrict check on gateway deletion looks resources up by gateway.
  await db.schema.createIndex('resources_gateway_id').on('resources').column('gateway_id').execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('resource_id', 'text', (c) => c.notNull().references('resources.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('password_enc', 'text', (c) => c.notNull())
    .addColumn('mfa_required', 'integer', (c) => c.notNull().check(flag('mfa_required')))
    .addColumn('max_session_seconds', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('accounts_resource_id_name_unique', ['resource_id', 'name'])
    .execute();
  await db.schema.createIndex('accounts_project_id').on('accounts').column('project_id').execute();

  // No foreign keys: a session is a historical record that outlives its user, resource and account.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('user_email', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('resource_name', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('account_name', 'text', (c) => c.notNull())
    .addColumn('gateway_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('ended_at', 'text')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('last_activity_at', 'text', (c) => c.notNull())
    .addColumn('end_reason', 'text')
    .addColumn('ended_by', 'text')
    .addColumn('client_address', 'text')
    .addColumn('client_agent', 'text')
    .addColumn('mfa_method', 'text')
    .addColumn('connections', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('commands', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('sessions_project_id_created_at').on('sessions').columns(['project_id', 'created_at']).execute();
  await db.schema.createIndex('sessions_user_id').on('sessions').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('sessions_resource_id').on('sessions').columns(['resource_id', 'created_at']).execute();
  await db.schema.createIndex('sessions_account_id').on('sessions').columns(['account_id', 'created_at']).execute();
  // Serves the state filter and the expiry sweep (state = 'active' and expires_at <= now).
  await db.schema.createIndex('sessions_state_expires_at').on('sessions').columns(['state', 'expires_at']).execute();

  await db.schema
    .createTable('session_log_events')
    .$call((t) =>
      dialect === 'postgres'
        ? t.addColumn('id', 'bigserial', (c) => c.primaryKey())
        : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()),
    )
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('time', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addUniqueConstraint('session_log_events_session_origin_seq_unique', ['session_id', 'origin', 'seq'])
    .execute();
  // Pages of one session's log in insertion order.
  await db.schema.createIndex('session_log_events_session_id_id').on('session_log_events').columns(['session_id', 'id']).execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text')
    .addColumn('actor_user_id', 'text')
    .addColumn('actor_email', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('time', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_project_id_time').on('audit_events').columns(['project_id', 'time']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
async function down(db: Kysely<any>): Promise<void> {
  const tables = [
    'audit_events',
    'session_log_events',
    'sessions',
    'accounts',
    'resources',
    'gateways',
    'gateway_enrollment_tokens',
    'project_members',
    'projects',
    'api_tokens',
    'users',
  ];
  for (const table of tables) await db.schema.dropTable(table).ifExists().execute();
}

export const initialMigration: StoreMigration = { up, down };
