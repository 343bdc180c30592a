/**
 * MFA with single sign-on: an account that requires MFA accepts the identity provider's second factor (amr "mfa")
 * only when the admin turned that on (PORTCULLIS_SSO_ACCEPT_IDP_MFA) and the project enforces no method of its own;
 * a password-only sign-in at the provider, or a server that does not accept it, still meets Portcullis's own MFA.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessBody } from '../bed/tunnel-key';
import { seedWorld, type World } from './api-harness';
import { SSO_USERS, type SsoWorld, ssoSignIn, startSsoWorld } from './sso-harness';

async function mfaAccount(world: SsoWorld, seeded: World): Promise<string> {
  const made = await world.server.call('POST', `/resources/${seeded.resource.id}/accounts`, {
    token: seeded.adminToken,
    body: { name: 'mfa-needed', username: 'app', password: 'account-password-1', mfaRequired: true },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body.id;
}

/** PORTCULLIS_SSO_MFA_MAX_AGE_SECONDS of the server that accepts the provider's MFA. */
const MFA_MAX_AGE_SECONDS = 600;

describe("MFA with single sign-on, the provider's MFA accepted", () => {
  let world: SsoWorld;
  let seeded: World;
  let accountId: string;
  before(async () => {
    world = await startSsoWorld('sqlite', {}, { acceptIdpMfa: true, mfaMaxAgeSeconds: MFA_MAX_AGE_SECONDS });
    seeded = await seedWorld(world.server);
    accountId = await mfaAccount(world, seeded);
  });
  after(async () => {
    await world?.close();
  });

  it('starts a session without a Portcullis challenge when the provider asserted MFA', async () => {
    const signIn = await ssoSignIn(world, SSO_USERS.bob);
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    assert.equal(signIn.body.idpMfa, true);
    const access = await world.server.call('POST', `/accounts/${accountId}/access`, { token: signIn.body.token, body: accessBody() });
    assert.equal(access.status, 201, JSON.stringify(access.body));
    assert.equal(access.body.session.mfaMethod, 'idp');
  });

  it("asks for Portcullis MFA again once the provider's MFA is older than PORTCULLIS_SSO_MFA_MAX_AGE_SECONDS", async () => {
    const signIn = await ssoSignIn(world, SSO_USERS.bob);
    assert.equal(signIn.body.idpMfa, true);
    const ask = () => world.server.call('POST', `/accounts/${accountId}/access`, { token: signIn.body.token, body: accessBody() });
    world.server.clock.offsetMs = (MFA_MAX_AGE_SECONDS - 30) * 1000;
    try {
      const fresh = await ask();
      assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
      assert.equal(fresh.body.session.mfaMethod, 'idp');
      world.server.clock.offsetMs = (MFA_MAX_AGE_SECONDS + 30) * 1000;
      const stale = await ask();
      assert.notEqual(stale.status, 201, JSON.stringify(stale.body));
      assert.notEqual(stale.body.kind, 'session');
    } finally {
      world.server.clock.offsetMs = 0;
    }
  });

  it('still asks for Portcullis MFA after a password-only sign-in at the provider', async () => {
    const signIn = await ssoSignIn(world, SSO_USERS.alice);
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    assert.equal(signIn.body.idpMfa, false);
    const access = await world.server.call('POST', `/accounts/${accountId}/access`, { token: signIn.body.token, body: accessBody() });
    assert.notEqual(access.status, 201, JSON.stringify(access.body));
    assert.notEqual(access.body.kind, 'session');
  });

  it("asks for the project's enforced method even after the provider's MFA", async () => {
    const signIn = await ssoSignIn(world, SSO_USERS.bob);
    const policy = await world.server.call('PUT', `/projects/${seeded.projectId}/mfa-policy`, {
      token: seeded.adminToken,
      body: { enforcedMethod: 'totp' },
    });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    try {
      const access = await world.server.call('POST', `/accounts/${accountId}/access`, { token: signIn.body.token, body: accessBody() });
      assert.notEqual(access.status, 201, JSON.stringify(access.body));
    } finally {
      await world.server.call('PUT', `/projects/${seeded.projectId}/mfa-policy`, {
        token: seeded.adminToken,
        body: { enforcedMethod: null },
      });
    }
  });
});

describe("MFA with single sign-on, the provider's MFA not accepted (the default)", () => {
  let world: SsoWorld;
  let seeded: World;
  let accountId: string;
  before(async () => {
    world = await startSsoWorld('sqlite');
    seeded = await seedWorld(world.server);
    accountId = await mfaAccount(world, seeded);
  });
  after(async () => {
    await world?.close();
  });

  it('asks for Portcullis MFA even when the provider asserted its own', async () => {
    const signIn = await ssoSignIn(world, SSO_USERS.bob);
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    assert.equal(signIn.body.idpMfa, false);
    const access = await world.server.call('POST', `/accounts/${accountId}/access`, { token: signIn.body.token, body: accessBody() });
    assert.notEqual(access.status, 201, JSON.stringify(access.body));
  });
});
