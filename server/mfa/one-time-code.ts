/** Random numeric codes for email MFA, kept only as a keyed hash. */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export function newNumericCode(digits = 6): string {
  return randomInt(0, 10 ** digits)
    .toString()
    .padStart(digits, '0');
}

/**
 * HMAC rather than a plain hash: a 6-digit code has a million values, so an unkeyed hash in a leaked database
 * would be reversed at once. The challenge id is mixed in so equal codes hash differently.
 */
export function hashCode(key: Buffer, challengeId: string, code: string): string {
  return createHmac('sha256', key).update(`${challengeId}:${code}`).digest('hex');
}

export function codeMatches(key: Buffer, challengeId: string, code: string, storedHash: string): boolean {
  const actual = Buffer.from(hashCode(key, challengeId, code), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Codes as people type them: spaces and dashes dropped. Null when what is left is not `digits` digits. */
export function normalizeCode(input: string, digits = 6): string | null {
  const code = input.replace(/[\s-]/g, '');
  return new RegExp(`^\\d{${digits}}$`).test(code) ? code : null;
}
