/**
 * The web console's single sign-on, server side: the console may send the browser back to its own address (the
 * server's origin, not any other), and `POST /console/sso` turns the one-time code into the console cookie exactly
 * as the password sign-in does; a user the group map does not admit is refused with the reason.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CONSOLE_COOKIE } from '../../server/auth/console-cookie';
import type { IdpUser } from '../bed/oidc-provider';
import { fillIdpLogin, pkcePair, SSO_USERS, type SsoWorld, startSsoWorld } from './sso-harness';

describe('web console single sign-on (server side)', () => {
  let world: SsoWorld;
  before(async () => {
    world = await startSsoWorld();
  });
  after(async () => {
    await world?.close();
  });

  /** Signs in at the real provider with the console's own address as redirect_uri; the one-time code it brings back. */
  async function codeFor(user: IdpUser, verifierChallenge: string): Promise<URL> {
    const origin = new URL(world.server.base).origin;
    const context = await world.browser.newContext();
    try {
      const page = await context.newPage();
      const query = new URLSearchParams({ redirect_uri: `${origin}/`, code_challenge: verifierChallenge, state: 'console-state' });
      await page.goto(`${world.server.base}/auth/sso/start?${query}`);
      await fillIdpLogin(page, user);
      await page.waitForURL((url) => url.origin === origin && url.pathname === '/' && url.searchParams.has('state'));
      return new URL(page.url());
    } finally {
      await context.close();
    }
  }

  it('signs in with the console cookie and answers like the password sign-in', async () => {
    const { verifier, challenge } = pkcePair();
    const back = await codeFor(SSO_USERS.alice, challenge);
    assert.equal(back.searchParams.get('state'), 'console-state');
    const answer = await world.server.call('POST', '/console/sso', {
      body: { code: back.searchParams.get('code'), codeVerifier: verifier },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.user.email, 'alice@example.com');
    assert.equal(typeof answer.body.csrfToken, 'string');
    assert.equal('token' in answer.body, false, 'the token goes into the cookie, not the answer');
    const setCookie = answer.headers.get('set-cookie') ?? '';
    assert.match(setCookie, new RegExp(`^${CONSOLE_COOKIE}=`));
    assert.match(setCookie, /HttpOnly/i);
    const cookie = setCookie.split(';')[0];
    const session = await world.server.call('GET', '/console/session', { headers: { cookie } });
    assert.equal(session.status, 200);
    assert.equal(session.body.user.email, 'alice@example.com');
    // The code is good once.
    const again = await world.server.call('POST', '/console/sso', {
      body: { code: back.searchParams.get('code'), codeVerifier: verifier },
    });
    assert.equal(again.status, 403);
    assert.equal(again.body.error.code, 'sso_refused');
  });

  it('refuses a user the group map does not admit, with the reason, and sets no cookie', async () => {
    const { verifier, challenge } = pkcePair();
    const back = await codeFor(SSO_USERS.carol, challenge);
    const answer = await world.server.call('POST', '/console/sso', {
      body: { code: back.searchParams.get('code'), codeVerifier: verifier },
    });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error.code, 'sso_refused');
    assert.match(answer.body.error.message, /carol@example\.com is in no group that gives access/);
    assert.equal(answer.headers.get('set-cookie'), null);
  });

  it("refuses a wrong PKCE verifier and a malformed body with the API's error", async () => {
    const { challenge } = pkcePair();
    const back = await codeFor(SSO_USERS.alice, challenge);
    const wrong = await world.server.call('POST', '/console/sso', {
      body: { code: back.searchParams.get('code'), codeVerifier: pkcePair().verifier },
    });
    assert.equal(wrong.status, 403);
    assert.match(wrong.body.error.message, /code verifier does not match/);
    const malformed = await world.server.call('POST', '/console/sso', { body: { code: 'x' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'validation_failed');
  });

  it("allows the server's own origin as redirect_uri, not another one", async () => {
    const start = (host: string, redirectUri: string) =>
      new Promise<number>((resolve, reject) => {
        const { challenge } = pkcePair();
        const url = new URL(
          `${world.server.base}/auth/sso/start?${new URLSearchParams({ redirect_uri: redirectUri, code_challenge: challenge })}`,
        );
        const req = httpRequest(url, { headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    // Reached as console.example.com (no public URL set): that origin is the console's, another is not.
    assert.equal(await start('console.example.com', 'http://console.example.com/'), 302);
    assert.equal(await start('console.example.com', 'http://evil.example/'), 400);
  });
});
