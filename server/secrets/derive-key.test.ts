import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { deriveKey } from './derive-key';

describe('deriveKey', () => {
  it('gives the same 32 bytes for the same root key and purpose, different bytes for another purpose or root', () => {
    const root = randomBytes(32);
    const ticket = deriveKey(root, 'relay-ticket-hmac');
    assert.equal(ticket.length, 32);
    assert.ok(ticket.equals(deriveKey(root, 'relay-ticket-hmac')));
    assert.ok(!ticket.equals(deriveKey(root, 'other-purpose')));
    assert.ok(!ticket.equals(deriveKey(randomBytes(32), 'relay-ticket-hmac')));
    assert.ok(!ticket.equals(root));
  });

  it('matches HKDF-SHA256 (RFC 5869) with an empty salt and info "portcullis:<purpose>"', () => {
    // Independent check: HKDF by hand from HMAC, one output block (32 bytes).
    const root = Buffer.alloc(32, 7);
    const prk = createHmac('sha256', Buffer.alloc(32)).update(root).digest();
    const okm = createHmac('sha256', prk)
      .update(Buffer.concat([Buffer.from('portcullis:p'), Buffer.from([1])]))
      .digest();
    assert.ok(deriveKey(root, 'p').equals(okm));
  });

  it('refuses a root key of the wrong size', () => {
    assert.throws(() => deriveKey(randomBytes(16), 'p'), /32-byte root key/);
  });
});
