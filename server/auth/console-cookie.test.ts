import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consoleCookieOptions, csrfTokenFor, csrfTokenMatches } from './console-cookie';

describe('the console cookie and its CSRF token', () => {
  it('derives one CSRF token per sign-in token, which only matches its own', () => {
    const token = csrfTokenFor('pcu_one');
    assert.equal(csrfTokenFor('pcu_one'), token);
    assert.notEqual(csrfTokenFor('pcu_two'), token);
    assert.equal(csrfTokenMatches('pcu_one', token), true);
    assert.equal(csrfTokenMatches('pcu_two', token), false);
    // Not the token itself, nor any part of it.
    assert.equal(token.includes('pcu_one'), false);
  });

  it('refuses a missing, empty, shortened, repeated or oversized header', () => {
    const token = csrfTokenFor('pcu_one');
    for (const presented of [undefined, '', token.slice(0, -1), [token, token], `${token}x`, 'x'.repeat(101)]) {
      assert.equal(csrfTokenMatches('pcu_one', presented), false, JSON.stringify(presented));
    }
  });

  it('keeps the cookie from scripts and other sites, on the API only, Secure when asked', () => {
    assert.deepEqual(consoleCookieOptions(false, 60), { path: '/api/v1', httpOnly: true, sameSite: 'strict', secure: false, maxAge: 60 });
    assert.equal(consoleCookieOptions(true, 60).secure, true);
  });
});
