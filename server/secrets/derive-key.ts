import { hkdfSync } from 'node:crypto';

/**
 * A 32-byte key for one purpose (e.g. `relay-ticket-hmac`), derived from the root key with HKDF-SHA256, so that
 * the root key itself is used for nothing directly and one purpose's key reveals nothing about another's.
 */
export function deriveKey(rootKey: Buffer, purpose: string): Buffer {
  if (rootKey.length !== 32) throw new Error('deriveKey needs the 32-byte root key');
  if (purpose.length === 0) throw new Error('deriveKey needs a purpose');
  return Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), `portcullis:${purpose}`, 32));
}
