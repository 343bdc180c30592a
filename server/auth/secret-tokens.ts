/**
 * Random bearer secrets (sign-in tokens, enrollment tokens, gateway credentials) and how they are stored:
 * only a SHA-256 of the secret reaches the database, so a copy of the database signs no one in.
 */
import { createHash, randomBytes } from 'node:crypto';

export const SECRET_PREFIXES = Object.freeze({
  signIn: 'pcu_',
  enrollment: 'pce_',
  gatewayCredential: 'pcg_',
} as const);
export type SecretPrefix = (typeof SECRET_PREFIXES)[keyof typeof SECRET_PREFIXES];

/** `prefix` + 32 random bytes in base64url. */
export function newSecretToken(prefix: SecretPrefix): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** The stored form of a secret token (hex SHA-256). */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
