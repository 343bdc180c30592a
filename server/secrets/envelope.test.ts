import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decryptSecret, encryptSecret, fieldAad, newWrappedDataKey, SecretDecryptionError, unwrapDataKey } from './envelope';

const PLAINTEXT = 'correct horse battery staple ✓';

/** Flips one bit in the byte at `index` of the base64url part `part` (1 = iv, 2 = tag, 3 = ciphertext). */
function flip(sealed: string, part: number, index = 0): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[index]! ^= 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('envelope encryption', () => {
  const rootKey = randomBytes(32);
  const dataKey = unwrapDataKey(rootKey, newWrappedDataKey(rootKey));
  const aad = fieldAad('acc_one', 'password');

  it('round-trips a secret in the versioned text format, with a new IV each time', () => {
    const sealed = encryptSecret(dataKey, PLAINTEXT, aad);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes('horse'));
    assert.equal(decryptSecret(dataKey, sealed, aad), PLAINTEXT);
    assert.notEqual(encryptSecret(dataKey, PLAINTEXT, aad), sealed);
    assert.equal(decryptSecret(dataKey, encryptSecret(dataKey, '', aad), aad), '');
  });

  it('detects tampering with the ciphertext, the tag or the IV, without revealing the plaintext', () => {
    const sealed = encryptSecret(dataKey, PLAINTEXT, aad);
    for (const part of [1, 2, 3]) {
      assert.throws(
        () => decryptSecret(dataKey, flip(sealed, part), aad),
        (error: Error) => {
          assert.ok(error instanceof SecretDecryptionError);
          assert.match(error.message, /integrity check/);
          assert.ok(!error.message.includes('horse'));
          return true;
        },
      );
    }
    // A truncated ciphertext too.
    assert.throws(() => decryptSecret(dataKey, sealed.slice(0, -2), aad), SecretDecryptionError);
  });

  it('refuses the right ciphertext under another AAD (moved to another row or field) or another key', () => {
    const sealed = encryptSecret(dataKey, PLAINTEXT, aad);
    assert.throws(() => decryptSecret(dataKey, sealed, fieldAad('acc_two', 'password')), SecretDecryptionError);
    assert.throws(() => decryptSecret(dataKey, sealed, fieldAad('acc_one', 'username')), SecretDecryptionError);
    const otherKey = unwrapDataKey(rootKey, newWrappedDataKey(rootKey));
    assert.throws(() => decryptSecret(otherKey, sealed, aad), SecretDecryptionError);
  });

  it('refuses malformed stored values clearly', () => {
    for (const bad of ['', 'plain text', 'v2.a.b.c', 'v1.a.b', 'v1.!!.b.c', `v1.${'A'.repeat(16)}.${'A'.repeat(5)}.AAAA`]) {
      assert.throws(() => decryptSecret(dataKey, bad, aad), /not in the expected format|malformed iv or tag/, bad);
    }
    assert.throws(() => encryptSecret(Buffer.alloc(16), PLAINTEXT, aad), /data key must be 32 bytes/);
  });

  it('wraps a random data key per project that only the same root key unwraps', () => {
    const wrapped = newWrappedDataKey(rootKey);
    assert.match(wrapped, /^v1\./);
    const key = unwrapDataKey(rootKey, wrapped);
    assert.equal(key.length, 32);
    assert.ok(!unwrapDataKey(rootKey, newWrappedDataKey(rootKey)).equals(key));
    assert.throws(() => unwrapDataKey(randomBytes(32), wrapped), SecretDecryptionError);
    assert.throws(() => unwrapDataKey(rootKey, flip(wrapped, 3)), SecretDecryptionError);
    // A secret sealed directly under the data key is not a wrapped key (different AAD).
    assert.throws(() => unwrapDataKey(rootKey, encryptSecret(key, 'x'.repeat(32), 'portcullis:data-key:v0')), SecretDecryptionError);
  });
});
