/**
 * The second factor asked before access to an account that requires it. Another part implements it (TOTP,
 * email codes); without one, such accounts cannot be accessed at all: never a silent bypass.
 */
import type { AccessMfaChallenge, MfaMethod } from '../../protocol/api';
import type { AccountRow } from '../store/schema';

export interface MfaUser {
  userId: string;
  email: string;
}

export type MfaVerdict =
  | { ok: true; method: MfaMethod }
  | { ok: false; code: 'mfa_invalid' | 'mfa_expired' | 'mfa_not_configured'; message: string };

export interface MfaProvider {
  /** Starts a challenge for this user and account (e.g. sends an email code). */
  challenge(user: MfaUser, account: AccountRow, projectMethod: MfaMethod | null): Promise<Omit<AccessMfaChallenge, 'kind'>>;
  /** Checks an answer; a challenge is bound to the user and account it was made for. */
  verify(user: MfaUser, account: AccountRow, answer: { challengeId: string; code: string }): Promise<MfaVerdict>;
}
