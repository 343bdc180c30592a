/** RFC 6238 time-based one-time passwords (otpauth): SHA-1, 6 digits, 30-second steps, what every authenticator app reads. */
import { Secret, TOTP } from 'otpauth';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** Codes of the previous and next step are accepted too, for clocks a little off. */
const WINDOW = 1;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpOf(secret: string, label = '', issuer = 'Portcullis'): TOTP {
  return new TOTP({ issuer, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: DIGITS, period: PERIOD_SECONDS });
}

/** The `otpauth://totp/...` URI an authenticator app scans. */
export function totpUri(secret: string, accountName: string, issuer: string): string {
  return totpOf(secret, accountName, issuer).toString();
}

/** The time step a valid code belongs to, or null when the code is not valid around `now`. */
export function matchTotpStep(secret: string, code: string, now: Date): number | null {
  const delta = totpOf(secret).validate({ token: code, timestamp: now.getTime(), window: WINDOW });
  if (delta === null) return null;
  return TOTP.counter({ period: PERIOD_SECONDS, timestamp: now.getTime() }) + delta;
}

/** The current code (for tests and tools that stand in for an authenticator app). */
export function totpCode(secret: string, at: Date): string {
  return totpOf(secret).generate({ timestamp: at.getTime() });
}

export const TOTP_PERIOD_SECONDS = PERIOD_SECONDS;
