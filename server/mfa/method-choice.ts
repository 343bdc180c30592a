import type { MfaMethod } from '../../protocol/api';

/**
 * Which method a challenge uses: the project's enforced method if an admin set one, else the user's own
 * (an authenticator app once confirmed), else email.
 */
export function chooseMfaMethod(input: { enforced: MfaMethod | null; totpConfirmed: boolean }): MfaMethod {
  if (input.enforced) return input.enforced;
  return input.totpConfirmed ? 'totp' : 'email';
}

/** `jane.doe@example.com` -> `j***@example.com`: enough to recognise, not enough to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
