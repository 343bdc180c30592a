/**
 * The control plane's tables as Kysely sees them: one `Database` interface for SQLite and PostgreSQL.
 *
 * Representations, identical on both dialects so that a query types the same everywhere:
 * - ids: text, a prefix plus 20 base32 characters (`newId` in ./ids).
 * - times: ISO-8601 text in UTC (`new Date().toISOString()`); they sort as text.
 * - booleans: integer 0 or 1 (`Flag`; convert with `toFlag`/`fromFlag` in ./flags). Neither better-sqlite3
 *   nor pg maps a boolean column the same way as the other, an integer is a number on both.
 * - JSON: text (`details`, `data`), parsed by the caller.
 * - integers: numbers on both (the PostgreSQL pool parses int8, e.g. `count(*)` and bigserial ids, as numbers).
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { AccessRequestState, MfaMethod, Role, SessionEndReason, SessionMfaMethod, SessionState } from '../../protocol/api';
import type { RiskFlagId, RiskSeverity } from '../../protocol/session-log';

/** A boolean stored as an integer. */
export type Flag = 0 | 1;

/** A column that is set on insert and never changed afterwards. */
type Immutable<T> = ColumnType<T, T, never>;

export interface UsersTable {
  id: Immutable<string>;
  /** Always lower-cased before it is stored; unique. */
  email: string;
  name: string;
  /** argon2id encoded hash. */
  password_hash: string;
  created_at: Immutable<string>;
  updated_at: string;
}

export interface ApiTokensTable {
  id: Immutable<string>;
  user_id: Immutable<string>;
  /** SHA-256 (hex) of the bearer token; the token itself is never stored. Unique. */
  token_hash: Immutable<string>;
  created_at: Immutable<string>;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  user_agent: string | null;
  /** When the identity provider asserted MFA for the single sign-on that issued this token; null otherwise. */
  idp_mfa_at: string | null;
}

export interface ProjectsTable {
  id: Immutable<string>;
  name: string;
  /** This project's data key, wrapped by the root key (`newWrappedDataKey` in server/secrets). */
  data_key_wrapped: string;
  mfa_enforced_method: MfaMethod | null;
  created_at: Immutable<string>;
}

export interface ProjectMembersTable {
  project_id: Immutable<string>;
  user_id: Immutable<string>;
  role: Role;
  created_at: Immutable<string>;
}

export interface GatewayEnrollmentTokensTable {
  id: Immutable<string>;
  project_id: Immutable<string>;
  /** SHA-256 (hex) of the enrollment token. Unique. */
  token_hash: Immutable<string>;
  name: string | null;
  /** User id of the admin who created it. */
  created_by: Immutable<string>;
  created_at: Immutable<string>;
  expires_at: string;
  used_at: string | null;
  gateway_id: string | null;
}

export interface GatewaysTable {
  id: Immutable<string>;
  project_id: Immutable<string>;
  name: string;
  /** SHA-256 (hex) of the gateway's credential. Unique. */
  credential_hash: string;
  created_at: Immutable<string>;
  last_seen_at: string | null;
  /** Defaults to 0. */
  connected: Generated<Flag>;
  version: string | null;
  /** The self-signed certificate of the gateway's tunnel key, as it last presented it (hello); null until then. */
  tunnel_certificate: string | null;
  /** Its SHA-256 fingerprint (`AB:CD:…`), vouched to clients at session start. */
  tunnel_fingerprint: string | null;
}

export interface ResourcesTable {
  id: Immutable<string>;
  project_id: Immutable<string>;
  /** A gateway with resources cannot be deleted (restrict). */
  gateway_id: string;
  /** Unique within the project. */
  name: string;
  connection_string: string;
  auth_database: string;
  tls_enabled: Flag;
  tls_reject_unauthorized: Flag;
  /** PEM, encrypted with the project's data key (`encryptSecret`, aad `${id}:ca_certificate`). */
  ca_certificate_enc: string | null;
  created_at: Immutable<string>;
  updated_at: string;
}

export interface AccountsTable {
  id: Immutable<string>;
  resource_id: Immutable<string>;
  project_id: Immutable<string>;
  /** Unique within the resource. */
  name: string;
  description: string;
  username: string;
  /** Encrypted with the project's data key (`encryptSecret`, aad `${id}:password`). */
  password_enc: string;
  mfa_required: Flag;
  max_session_seconds: number;
  /** AccountPolicy as JSON (protocol/policy.ts); null = the default policy. */
  policy: string | null;
  created_at: Immutable<string>;
  updated_at: string;
}

/** A historical record: no foreign keys, names are copied so it outlives the user, resource and account. */
export interface SessionsTable {
  id: Immutable<string>;
  project_id: Immutable<string>;
  user_id: Immutable<string>;
  user_email: Immutable<string>;
  resource_id: Immutable<string>;
  resource_name: Immutable<string>;
  account_id: Immutable<string>;
  account_name: Immutable<string>;
  gateway_id: Immutable<string>;
  state: SessionState;
  created_at: Immutable<string>;
  started_at: string | null;
  ended_at: string | null;
  expires_at: string;
  last_activity_at: string;
  end_reason: SessionEndReason | null;
  /** User id (or `system`) that ended it. */
  ended_by: string | null;
  client_address: string | null;
  client_agent: string | null;
  mfa_method: SessionMfaMethod | null;
  /** Why the user opened the session (required by some accounts' policy). */
  reason: string | null;
  /** Defaults to 0. */
  connections: Generated<number>;
  /** Defaults to 0. */
  commands: Generated<number>;
  /** Risk flags of its recorded commands (defaults to 0). */
  flag_count: Generated<number>;
  /** Of which high severity (defaults to 0). */
  high_flag_count: Generated<number>;
  /** The approved access request (grant) it started under, for accounts that require approval. */
  access_request_id: string | null;
  /** What the control plane vouched for at the start (end-to-end encryption): the session certificate's fingerprint… */
  tunnel_client_fingerprint: string | null;
  /** …and the gateway certificate's. */
  tunnel_gateway_fingerprint: string | null;
}

/** An access request, and once approved the grant it became (see AccessRequestDto). */
export interface AccessRequestsTable {
  id: Immutable<string>;
  project_id: Immutable<string>;
  resource_id: Immutable<string>;
  resource_name: Immutable<string>;
  account_id: Immutable<string>;
  account_name: Immutable<string>;
  requester_user_id: Immutable<string>;
  requester_email: Immutable<string>;
  reason: Immutable<string>;
  duration_seconds: number;
  state: AccessRequestState;
  created_at: Immutable<string>;
  expires_at: string;
  decided_at: string | null;
  decided_by_user_id: string | null;
  decided_by_email: string | null;
  note: string | null;
  grant_expires_at: string | null;
  /** Defaults to 0. */
  sessions: Generated<number>;
}

/** One risk flag of one recorded command (session_log_events.id): what sessions are listed by. */
export interface SessionFlagsTable {
  session_id: string;
  event_id: number;
  flag: RiskFlagId;
  severity: RiskSeverity;
  detail: string;
  time: string;
}

export interface SessionLogEventsTable {
  /** Autoincrement: stable order and the cursor for pagination. */
  id: Generated<number>;
  session_id: Immutable<string>;
  /** The gateway process run that numbered the event; (session_id, origin, seq) is unique. */
  origin: Immutable<string>;
  seq: Immutable<number>;
  time: Immutable<string>;
  kind: Immutable<'command' | 'connection'>;
  connection_id: Immutable<string>;
  /** JSON of the `SessionLogEvent` (protocol/session-log). */
  data: Immutable<string>;
}

export interface AuditEventsTable {
  id: Immutable<string>;
  project_id: Immutable<string | null>;
  actor_user_id: Immutable<string | null>;
  actor_email: Immutable<string | null>;
  action: Immutable<string>;
  target_type: Immutable<string>;
  target_id: Immutable<string | null>;
  /** JSON object. */
  details: Immutable<string>;
  time: Immutable<string>;
}

/**
 * Sign-in attempts counted against one scope of the sign-in limits (server/auth/sign-in-throttle.ts): an email
 * from one client network, an email from anywhere, or one client network for any email.
 */
export interface SignInThrottlesTable {
  /** `pair:<email> <network>`, `account:<email>` or `network:<network>`. */
  key: Immutable<string>;
  /** Attempts since the last success (or since the count was forgotten), counted when they are let through. */
  failures: number;
  /** No password is checked for this scope before this time. */
  next_attempt_at: string;
  last_failure_at: string | null;
  /** `pair` rows: the last successful sign-in, which exempts the pair from the account and network ceilings. */
  last_success_at: string | null;
  /** The row means nothing after this time and may be deleted. */
  expires_at: string;
}

/** A control-plane process sharing this database (server/replicas/replica-registry.ts). */
export interface ReplicasTable {
  /** Random per process run (`rep_…`). */
  id: Immutable<string>;
  /** Base address gateways open their control channel and data streams at. */
  url: string;
  started_at: Immutable<string>;
  /** Renewed on each heartbeat; a replica whose lease has passed is not live. */
  lease_expires_at: string;
}

export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  gateway_enrollment_tokens: GatewayEnrollmentTokensTable;
  gateways: GatewaysTable;
  resources: ResourcesTable;
  accounts: AccountsTable;
  sessions: SessionsTable;
  session_log_events: SessionLogEventsTable;
  session_flags: SessionFlagsTable;
  audit_events: AuditEventsTable;
  sign_in_throttles: SignInThrottlesTable;
  replicas: ReplicasTable;
  access_requests: AccessRequestsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type NewApiTokenRow = Insertable<ApiTokensTable>;
export type ProjectRow = Selectable<ProjectsTable>;
export type NewProjectRow = Insertable<ProjectsTable>;
export type ProjectMemberRow = Selectable<ProjectMembersTable>;
export type NewProjectMemberRow = Insertable<ProjectMembersTable>;
export type GatewayEnrollmentTokenRow = Selectable<GatewayEnrollmentTokensTable>;
export type NewGatewayEnrollmentTokenRow = Insertable<GatewayEnrollmentTokensTable>;
export type GatewayRow = Selectable<GatewaysTable>;
export type NewGatewayRow = Insertable<GatewaysTable>;
export type GatewayUpdate = Updateable<GatewaysTable>;
export type ResourceRow = Selectable<ResourcesTable>;
export type NewResourceRow = Insertable<ResourcesTable>;
export type ResourceUpdate = Updateable<ResourcesTable>;
export type AccountRow = Selectable<AccountsTable>;
export type NewAccountRow = Insertable<AccountsTable>;
export type NewSessionFlagRow = Insertable<SessionFlagsTable>;
export type AccountUpdate = Updateable<AccountsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type AccessRequestRow = Selectable<AccessRequestsTable>;
export type NewSessionRow = Insertable<SessionsTable>;
export type SessionUpdate = Updateable<SessionsTable>;
export type SessionLogEventRow = Selectable<SessionLogEventsTable>;
export type NewSessionLogEventRow = Insertable<SessionLogEventsTable>;
export type SignInThrottleRow = Selectable<SignInThrottlesTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEventRow = Insertable<AuditEventsTable>;
