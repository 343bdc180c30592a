/**
 * The MFA tables as Kysely sees them. They live beside the MFA code rather than in server/store/schema.ts;
 * queries reach them through `mfaDb(store.db)`, which adds these tables to the store's `Database` type.
 * Representations follow server/store/schema.ts: text ids, ISO-8601 UTC text times, integers as numbers.
 */
import type { ColumnType, Generated, Kysely } from 'kysely';
import type { MfaMethod } from '../../protocol/api';
import type { Database } from '../store/schema';

type Immutable<T> = ColumnType<T, T, never>;

/** One authenticator app per user: pending until confirmed with a first code. */
export interface UserTotpTable {
  /** Primary key; references users.id (cascade). */
  user_id: Immutable<string>;
  /** Base32 secret, encrypted (AES-256-GCM, aad `<user id>:totp_secret`): the server must read it to check codes. */
  secret_enc: string;
  /** Null while pending. */
  confirmed_at: string | null;
  /** The last TOTP time step accepted: a code of this step or an earlier one is refused (no replay). */
  last_used_step: number | null;
  created_at: string;
}

export type ChallengeState = 'pending' | 'passed' | 'void';

/** An MFA challenge returned instead of a session; bound to one user and one account. */
export interface MfaChallengesTable {
  id: Immutable<string>;
  user_id: Immutable<string>;
  project_id: Immutable<string>;
  account_id: Immutable<string>;
  method: Immutable<MfaMethod>;
  /** For email: HMAC-SHA256 (hex) of the code under a server key; the code itself is never stored. */
  code_hash: Immutable<string | null>;
  created_at: Immutable<string>;
  expires_at: Immutable<string>;
  failed_attempts: Generated<number>;
  state: ChallengeState;
  finished_at: string | null;
}

/** One row per wrong code, for the per-user limit across challenges, enrollment and removal. */
export interface MfaFailuresTable {
  id: Immutable<string>;
  user_id: Immutable<string>;
  time: Immutable<string>;
  /** `access`, `confirm` or `remove`. */
  context: Immutable<string>;
}

// A type alias, not an interface: `withTables` needs a type with an implicit index signature.
export type MfaTables = {
  user_totp: UserTotpTable;
  mfa_challenges: MfaChallengesTable;
  mfa_failures: MfaFailuresTable;
};

export type MfaDatabase = Database & MfaTables;

/** The store's connection, typed with the MFA tables too (no new connection, no runtime cost). */
export function mfaDb(db: Kysely<Database>): Kysely<MfaDatabase> {
  return db.withTables<MfaTables>();
}
