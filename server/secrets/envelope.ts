import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey } from './derive-key';

/**
 * Envelope encryption with AES-256-GCM: each project has a random data key, stored wrapped (encrypted) by a key
 * derived from the root key; secrets in rows are encrypted by the project's data key.
 *
 * Text format (both for secrets and wrapped keys): `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 * The version lets a later format (or key rotation) sit beside this one.
 */
const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAP_PURPOSE = 'data-key-wrapping';
const WRAP_AAD = 'portcullis:data-key:v1';

export class SecretDecryptionError extends Error {
  override name = 'SecretDecryptionError';
}

/** The conventional AAD of a secret column: binds the ciphertext to its row and field, so it cannot be moved. */
export function fieldAad(rowId: string, field: string): string {
  return `${rowId}:${field}`;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function open(key: Buffer, sealed: string, aad: string, what: string): Buffer {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 4 || parts[0] !== VERSION || !parts.slice(1).every((p) => BASE64URL.test(p))) {
    throw new SecretDecryptionError(`the ${what} is not in the expected format (v1.<iv>.<tag>.<ciphertext>); the stored value is damaged`);
  }
  const iv = Buffer.from(parts[1]!, 'base64url');
  const tag = Buffer.from(parts[2]!, 'base64url');
  const ciphertext = Buffer.from(parts[3]!, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SecretDecryptionError(`the ${what} has a malformed iv or tag; the stored value is damaged`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // Deliberately no detail: whatever was decrypted before the tag check failed must not leak.
    throw new SecretDecryptionError(
      `the ${what} failed its integrity check: it was altered, belongs to another row or field, or was encrypted under another key`,
    );
  }
}

function checkKey(key: Buffer, name: string): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new Error(`the ${name} must be ${KEY_BYTES} bytes`);
}

/** A new random data key for a project, wrapped by the root key, ready for `projects.data_key_wrapped`. */
export function newWrappedDataKey(rootKey: Buffer): string {
  checkKey(rootKey, 'root key');
  return seal(deriveKey(rootKey, WRAP_PURPOSE), randomBytes(KEY_BYTES), WRAP_AAD);
}

/** The project's data key from its wrapped form. Throws SecretDecryptionError under the wrong root key. */
export function unwrapDataKey(rootKey: Buffer, wrapped: string): Buffer {
  checkKey(rootKey, 'root key');
  const key = open(deriveKey(rootKey, WRAP_PURPOSE), wrapped, WRAP_AAD, 'wrapped data key');
  if (key.length !== KEY_BYTES) throw new SecretDecryptionError('the wrapped data key does not hold a 32-byte key');
  return key;
}

/** Encrypts a secret for storage. `aad` binds it to its place (use `fieldAad(rowId, field)`); it is not secret. */
export function encryptSecret(dataKey: Buffer, plaintext: string, aad: string): string {
  checkKey(dataKey, 'data key');
  return seal(dataKey, Buffer.from(plaintext, 'utf8'), aad);
}

/** Decrypts a stored secret; the same `aad` as at encryption is required. Tampering throws SecretDecryptionError. */
export function decryptSecret(dataKey: Buffer, ciphertext: string, aad: string): string {
  checkKey(dataKey, 'data key');
  return open(dataKey, ciphertext, aad, 'encrypted secret').toString('utf8');
}
