/**
 * Single sign-on against a real OpenID Provider (oidc-provider on loopback), its login page typed into by Chromium:
 * users created just in time with the projects their groups map to, access lost and tokens revoked when a group is
 * taken away, and every way the provider's answer can be bad refused with a clear error: a tampered ID token, one
 * for another audience, an expired one, a replayed callback and a replayed or stolen one-time code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SSO_FLOW_SECONDS } from '../../server/sso/sso-service';
import { accessBody } from '../bed/tunnel-key';
import { enrollGateway } from './api-harness';
import { fillIdpLogin, pkcePair, SSO_USERS, type SsoWorld, ssoSignIn, startSsoWorld } from './sso-harness';

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
    const password = await world.server.call('POST', '/auth/login', {
      body: { email: 'alice@example.com', password: 'alice-idp-password' },
    });
    assert.equal(password.status, 401);
  });

  it('takes access away when the provider removes the user from a group: memberships, tokens and sessions', async () => {
    const first = await ssoSignIn(world, SSO_USERS.bob);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const me = await world.server.call('GET', '/me', { token: first.body.token });
    assert.deepEqual(
      me.body.projects.map((p: { name: string; role: string }) => `${p.name}:${p.role}`),
      ['default:admin'],
    );
    // Demoted at the provider: the next sign-in makes bob a member, and his admin token no longer works.
    world.idp.setGroups('bob', ['developers']);
    const second = await ssoSignIn(world, SSO_USERS.bob);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal((await world.server.call('GET', '/me', { token: first.body.token })).status, 401, 'the admin-era token is revoked');
    const asMember = await world.server.call('GET', '/me', { token: second.body.token });
    assert.deepEqual(
      asMember.body.projects.map((p: { name: string; role: string }) => `${p.name}:${p.role}`),
      ['default:member'],
    );
    // As a member, bob starts a session on an account of the project.
    const admin = await world.server.login(world.server.bootstrap.email, world.server.bootstrap.password);
    const projectId = asMember.body.projects[0].id;
    const gateway = await enrollGateway(world.server, admin, projectId, 'gw-sso');
    const resource = await world.server.call('POST', '/resources', {
      token: admin,
      body: { projectId, name: 'db-sso', gatewayId: gateway.gatewayId, connectionString: 'mongodb://db.internal:27017/' },
    });
    const account = await world.server.call('POST', `/resources/${resource.body.id}/accounts`, {
      token: admin,
      body: { name: 'reader', username: 'app_reader', password: 'Acc0unt-Pa55word', maxSessionDurationSeconds: 7200 },
    });
    const access = await world.server.call('POST', `/accounts/${account.body.id}/access`, { token: second.body.token, body: accessBody() });
    assert.equal(access.status, 201, JSON.stringify(access.body));
    const sessionId = access.body.session.id;
    assert.equal((await world.server.call('GET', `/sessions/${sessionId}`, { token: admin })).body.state, 'active');
    // Removed from every mapped group: refused, the membership is gone and the member token revoked too.
    world.idp.setGroups('bob', ['marketing']);
    const third = await ssoSignIn(world, SSO_USERS.bob);
    assert.equal(third.status, 403);
    assert.equal(third.body.error.code, 'sso_refused');
    assert.match(
      third.body.error.message,
      /bob@example\.com is in no group that gives access to a Portcullis project \(groups from the identity provider: marketing\)/,
    );
    assert.equal((await world.server.call('GET', '/me', { token: second.body.token })).status, 401, 'the member token is revoked');
    // His running session in the project is ended, by single sign-on.
    const ended = await world.server.call('GET', `/sessions/${sessionId}`, { token: admin });
    assert.equal(ended.body.state, 'terminated', JSON.stringify(ended.body));
    assert.equal(ended.body.endReason, 'terminated');
    assert.equal(ended.body.endedBy, 'sso');
    const members = await world.server.call('GET', `/projects/${projectId}/members`, { token: admin });
    assert.equal(
      members.body.items.some((m: { email: string }) => m.email === 'bob@example.com'),
      false,
      'bob is no longer a member',
    );
    world.idp.setGroups('bob', [...SSO_USERS.bob.groups]);
  });

  it('creates no user for someone in no mapped group', async () => {
    const signIn = await ssoSignIn(world, SSO_USERS.carol);
    assert.equal(signIn.status, 403);
    assert.equal(signIn.body.error.code, 'sso_refused');
    assert.match(signIn.body.error.message, /carol@example\.com is in no group .*marketing/);
    const row = await world.server.cp.store.db.selectFrom('users').select('id').where('email', '=', 'carol@example.com').executeTakeFirst();
    assert.equal(row, undefined);
  });

  it('refuses a tampered ID token (its signature no longer verifies)', async () => {
    world.idp.tamperTokenResponse = (body) => {
      const [header, payload, signature] = String(body.id_token).split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      claims.sub = 'carol';
      return { ...body, id_token: [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.') };
    };
    try {
      const signIn = await ssoSignIn(world, SSO_USERS.alice);
      assert.equal(signIn.status, 403);
      assert.equal(signIn.body.error.code, 'sso_refused');
      assert.match(signIn.body.error.message, /signature does not verify against the identity provider's keys/);
    } finally {
      world.idp.tamperTokenResponse = undefined;
    }
  });

  it('refuses a genuine ID token issued for another application (wrong audience)', async () => {
    world.idp.tamperTokenResponse = async (body, ctx) => {
      const claims = JSON.parse(Buffer.from(String(body.id_token).split('.')[1], 'base64url').toString());
      return { ...body, id_token: await world.idp.mintIdToken(ctx, 'wiki', { sub: claims.sub, nonce: claims.nonce }) };
    };
    try {
      const signIn = await ssoSignIn(world, SSO_USERS.alice);
      assert.equal(signIn.status, 403);
      assert.equal(signIn.body.error.code, 'sso_refused');
      assert.match(signIn.body.error.message, /issued for another client \(audience\)/);
    } finally {
      world.idp.tamperTokenResponse = undefined;
    }
  });

  it('refuses an expired ID token', async () => {
    // The control plane's clock is 3 hours ahead: the provider's 10-minute ID token is long expired by it.
    world.server.clock.offsetMs = 3 * 3600_000;
    try {
      const signIn = await ssoSignIn(world, SSO_USERS.alice);
      assert.equal(signIn.status, 403);
      assert.equal(signIn.body.error.code, 'sso_refused');
      assert.match(signIn.body.error.message, /the ID token has expired/);
    } finally {
      world.server.clock.offsetMs = 0;
    }
  });

  it('refuses a replayed callback and a one-time code used twice or without its verifier', async () => {
    const signIn = await ssoSignIn(world, SSO_USERS.alice);
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    assert.match(signIn.callbackUrl, /[?&]code=/, "the browser passed the callback with the provider's code");
    const idpCode = new URL(signIn.callbackUrl).searchParams.get('code') ?? '';
    assert.ok(idpCode.length > 10);
    const logs = world.server.logs.join('\n');
    assert.equal(logs.includes(idpCode), false, "the provider's code reaches no log line");
    assert.equal(logs.includes(String(signIn.code)), false, 'nor does the one-time code');
    const replay = await fetch(signIn.callbackUrl, { redirect: 'manual' });
    assert.equal(replay.status, 403);
    const body = (await replay.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'sso_refused');
    assert.match(body.error.message, /already finished \(the answer was replayed\)/);

    const again = await world.server.call('POST', '/auth/sso/token', { body: { code: signIn.code, codeVerifier: signIn.verifier } });
    assert.equal(again.status, 403);
    assert.match(again.body.error.message, /already collected/);
    const stolen = await world.server.call('POST', '/auth/sso/token', { body: { code: signIn.code, codeVerifier: pkcePair().verifier } });
    assert.equal(stolen.status, 403);
    assert.match(stolen.body.error.message, /code verifier does not match/);
  });

  it("refuses to send a sign-in to an address that is not the user's machine or a known client", async () => {
    const { challenge } = pkcePair();
    for (const [redirect, why] of [
      ['https://attacker.example/steal', /not allowed: use a loopback address, or ask an admin/],
      ['vscode://other.extension/cb', /must be for the extension portcullis\.portcullis/],
    ] as const) {
      const start = await fetch(
        `${world.server.base}/auth/sso/start?${new URLSearchParams({ redirect_uri: redirect, code_challenge: challenge })}`,
        {
          redirect: 'manual',
        },
      );
      assert.equal(start.status, 400);
      const body = (await start.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'bad_request');
      assert.match(body.error.message, why);
    }
  });

  it('signs in a device that has no way back, once the user finishes in a browser', async () => {
    const device = await world.server.call('POST', '/auth/sso/device');
    assert.equal(device.status, 201);
    assert.match(device.body.userCode, /^[B-Z]{4}-[B-Z]{4}$/);
    const pending = await world.server.call('POST', '/auth/sso/token', { body: { deviceCode: device.body.deviceCode } });
    assert.equal(pending.status, 400);
    assert.equal(pending.body.error.code, 'sso_pending');
    const context = await world.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(device.body.verificationUrl);
      await fillIdpLogin(page, SSO_USERS.alice);
      await page.getByText(`You are signed in to Portcullis with the code ${device.body.userCode}`).waitFor({ timeout: 20_000 });
    } finally {
      await context.close();
    }
    const done = await world.server.call('POST', '/auth/sso/token', { body: { deviceCode: device.body.deviceCode } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user.email, 'alice@example.com');
    const again = await world.server.call('POST', '/auth/sso/token', { body: { deviceCode: device.body.deviceCode } });
    assert.equal(again.status, 403);
  });

  it('refuses a device code that was not finished in time, in the poll and on the verification page', async () => {
    const device = await world.server.call('POST', '/auth/sso/device');
    assert.equal(device.status, 201);
    world.server.clock.offsetMs = (SSO_FLOW_SECONDS + 5) * 1000;
    const context = await world.browser.newContext();
    try {
      const polled = await world.server.call('POST', '/auth/sso/token', { body: { deviceCode: device.body.deviceCode } });
      assert.equal(polled.status, 403, JSON.stringify(polled.body));
      assert.equal(polled.body.error.code, 'sso_refused');
      assert.match(polled.body.error.message, /this sign-in expired: start it again/);
      const page = await context.newPage();
      await page.goto(device.body.verificationUrl);
      await page.getByText(`The code ${device.body.userCode} is unknown, used or expired`).waitFor({ timeout: 10_000 });
    } finally {
      world.server.clock.offsetMs = 0;
      await context.close();
    }
  });
});

describe('single sign-on beside existing users, password sign-in off', () => {
  const dave = { login: 'dave', password: 'dave-idp-password', email: 'dave@example.com', name: 'Dave', groups: ['developers'] };
  const erin = { ...dave, login: 'erin', password: 'erin-idp-password', email: 'erin@example.com', name: 'Erin', emailVerified: false };
  let world: SsoWorld;
  before(async () => {
    world = await startSsoWorld('sqlite', {}, { passwordSignIn: false, extraUsers: [dave, erin] });
  });
  after(async () => {
    await world?.close();
  });

  it('refuses password sign-in with what to do instead, and says so in GET /auth/sso', async () => {
    const login = await world.server.call('POST', '/auth/login', {
      body: { email: world.server.bootstrap.email, password: world.server.bootstrap.password },
    });
    assert.equal(login.status, 403);
    assert.equal(login.body.error.code, 'password_sign_in_disabled');
    assert.match(
      login.body.error.message,
      /password sign-in is turned off on this server: sign in with single sign-on \(portcullis login --sso\)/,
    );
    assert.equal((await world.server.call('GET', '/auth/sso')).body.password, false);
  });

  it('links an existing user only when the provider verified the email', async () => {
    const time = new Date().toISOString();
    for (const [id, email] of [
      ['usr_daveexistingaaaaaaaaa', 'dave@example.com'],
      ['usr_erinexistingaaaaaaaaa', 'erin@example.com'],
    ]) {
      await world.server.cp.store.db
        .insertInto('users')
        .values({ id, email, name: 'Existing', password_hash: '!x', created_at: time, updated_at: time })
        .execute();
    }
    const linked = await ssoSignIn(world, dave);
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    assert.equal(linked.body.user.id, 'usr_daveexistingaaaaaaaaa', 'the existing user, not a new one');
    const refused = await ssoSignIn(world, erin);
    assert.equal(refused.status, 403);
    assert.match(
      refused.body.error.message,
      /a Portcullis user with the email erin@example\.com exists, but the identity provider does not say it verified that email/,
    );
  });
});
