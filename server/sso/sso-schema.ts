/**
 * The single sign-on tables as Kysely sees them, beside the SSO code (as the MFA tables are); queries reach them
 * through `ssoDb(store.db)`. Representations follow server/store/schema.ts.
 */
import type { ColumnType, Kysely } from 'kysely';
import type { Database } from '../store/schema';

type Immutable<T> = ColumnType<T, T, never>;

/** An identity the OpenID Provider vouched for (issuer + `sub`), linked to one user. */
export interface SsoIdentitiesTable {
  issuer: Immutable<string>;
  subject: Immutable<string>;
  user_id: Immutable<string>;
  /** The email the provider last gave. */
  email: string;
  /** JSON array of the groups the provider last gave. */
  groups: string;
  created_at: Immutable<string>;
  last_sign_in_at: string;
}

/**
 * started: the browser went to the provider. signed_in: the provider's answer was valid, a client may collect the
 * token once. failed: the provider's answer was refused (error_code, error_message say why, to the client). used:
 * the token was collected (a second attempt is refused).
 */
export type SsoFlowState = 'started' | 'signed_in' | 'failed' | 'used';

/** One sign-in in progress. `id` is the `state` sent to the provider. */
export interface SsoFlowsTable {
  id: Immutable<string>;
  /** `redirect`: the browser comes back to the client's redirect URI. `device`: the client polls with its device code. */
  kind: Immutable<'redirect' | 'device'>;
  state: SsoFlowState;
  /** Where the browser goes with the one-time code (redirect flows). */
  redirect_uri: Immutable<string | null>;
  /** The client's own `state`, given back to it with the code. */
  client_state: Immutable<string | null>;
  /** The client's PKCE S256 challenge: the one-time code is worth nothing without the verifier. */
  code_challenge: Immutable<string | null>;
  /** This server's callback as the provider was told it (the code exchange repeats it). */
  idp_redirect_uri: string | null;
  /** SHA-256 (hex) of the device code (device flows). */
  device_code_hash: Immutable<string | null>;
  /** The short code the user sees on the verification page (device flows). */
  user_code: Immutable<string | null>;
  /** SHA-256 (hex) of the one-time code handed to the client (redirect flows). */
  result_code_hash: string | null;
  user_id: string | null;
  idp_mfa_at: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Immutable<string>;
  expires_at: Immutable<string>;
}

// A type alias, not an interface: `withTables` needs a type with an implicit index signature.
export type SsoTables = {
  sso_identities: SsoIdentitiesTable;
  sso_flows: SsoFlowsTable;
};

export type SsoDatabase = Database & SsoTables;

/** The store's connection, typed with the SSO tables too (no new connection, no runtime cost). */
export function ssoDb(db: Kysely<Database>): Kysely<SsoDatabase> {
  return db.withTables<SsoTables>();
}
