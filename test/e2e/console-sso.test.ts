/**
 * Single sign-on in the web console, in Debian's Chromium against a real control plane and a real OpenID Provider
 * (test/bed/oidc-provider.ts): the sign-in page offers it, the provider's groups decide the projects shown, an answer
 * whose state this tab did not store is refused before its code is used (no cookie), the authenticator code is asked
 * for unless the provider's MFA counts, and with password sign-in off only single sign-on shows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { CONSOLE_SSO_CALLBACK_PATH, type ConsoleSsoRequest } from '../../protocol/api';
import { CONSOLE_COOKIE } from '../../server/auth/console-cookie';
import { TOTP_PERIOD_SECONDS, totpCode } from '../../server/mfa/totp';
import type { IdpUser } from '../bed/oidc-provider';
import { removeTempDir } from '../bed/processes';
import { assertAccessible, buildConsole, screenshots } from './console-harness';
import { fillIdpLogin, SSO_USERS, type SsoWorld, ssoSignIn, startSsoWorld } from './sso-harness';

const SSO_BUTTON = 'Sign in with single sign-on';
/** A developer who set up an authenticator app in Portcullis (the provider asks for no second factor). */
const DAVE: IdpUser = { login: 'dave', password: 'dave-idp-password', email: 'dave@example.com', name: 'Dave', groups: ['developers'] };

interface ConsoleSsoWorld {
  world: SsoWorld;
  url: string;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

async function startConsoleSsoWorld(sso: Parameters<typeof startSsoWorld>[2]): Promise<ConsoleSsoWorld> {
  const consoleDir = buildConsole();
  let world: SsoWorld;
  try {
    world = await startSsoWorld('sqlite', { consoleDir }, sso);
  } catch (error) {
    removeTempDir(consoleDir);
    throw error;
  }
  return {
    world,
    url: `${world.server.cp.url}/`,
    newPage: async () => (await world.browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage(),
    async close() {
      await world.close();
      removeTempDir(consoleDir);
    },
  };
}

/** Sets up an authenticator app for a user signed in by single sign-on; returns its secret. */
async function enrollTotp(world: SsoWorld, user: IdpUser): Promise<string> {
  const signedIn = await ssoSignIn(world, user);
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  const token = signedIn.body.token as string;
  const started = await world.server.call('POST', '/me/mfa/totp', { token, body: {} });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const secret = started.body.secret as string;
  const confirmed = await world.server.call('POST', '/me/mfa/totp/confirm', {
    token,
    body: { code: totpCode(secret, new Date(Date.now() + world.server.clock.offsetMs)) },
  });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  // The next sign-in needs the next code (a used one is refused): move the control plane's clock one period on.
  world.server.clock.offsetMs += TOTP_PERIOD_SECONDS * 1000;
  return secret;
}

async function consoleCookie(page: Page) {
  return (await page.context().cookies()).find((c) => c.name === CONSOLE_COOKIE);
}

describe('web console: single sign-on', () => {
  let c: ConsoleSsoWorld;
  const shot = screenshots('console-sso');
  before(async () => {
    c = await startConsoleSsoWorld({ extraUsers: [DAVE] });
    // A project no group maps to: nobody signed in by single sign-on may see it.
    const made = await c.world.server.call('POST', '/projects', {
      token: await c.world.server.login(c.world.server.bootstrap.email, c.world.server.bootstrap.password),
      body: { name: 'shop' },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  });
  after(async () => {
    await c?.close();
  });

  it('offers single sign-on beside the password form, accessibly', async () => {
    const page = await c.newPage();
    await page.goto(c.url);
    await page.getByRole('button', { name: SSO_BUTTON }).waitFor();
    assert.equal(await page.getByLabel('Password').count(), 1, 'password sign-in is on, so its form shows too');
    await assertAccessible(page, 'sign-in page with single sign-on');
    await shot(page, 'sign-in-sso', 'console-sign-in-sso');
    await page.context().close();
  });

  it('signs in with single sign-on and shows only the projects the groups map to', async () => {
    const page = await c.newPage();
    const exchanges: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/console/sso')) exchanges.push(r.method());
    });
    await page.goto(c.url);
    await page.getByRole('button', { name: SSO_BUTTON }).click();
    await fillIdpLogin(page, SSO_USERS.alice);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.deepEqual(exchanges, ['POST']);
    const url = new URL(page.url());
    assert.equal(url.pathname, '/');
    assert.equal(url.hash, '#/sessions');
    assert.equal(url.search, '', 'the one-time code left the address bar');
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    // The group "developers" maps to default:member; the project "shop" is no group's.
    assert.match((await page.locator('.project-name').textContent()) ?? '', /^default \(member\)$/);
    assert.equal(await page.getByLabel('Project').count(), 0, 'one project only: no project picker');
    const session = (await page.evaluate(`fetch('/api/v1/console/session').then((r) => r.json())`)) as {
      user: { email: string };
      projects: Array<{ name: string; role: string }>;
    };
    assert.equal(session.user.email, 'alice@example.com');
    assert.deepEqual(
      session.projects.map((p) => `${p.name}:${p.role}`),
      ['default:member'],
    );
    assert.equal(await page.evaluate('sessionStorage.length'), 0, 'the PKCE verifier and state are gone');
    const cookie = await consoleCookie(page);
    assert.ok(cookie?.httpOnly, 'signed in by the HttpOnly cookie');
    assert.equal(cookie?.sameSite, 'Strict');
    // The CSRF rules hold as after a password sign-in: a state-changing request without the header is refused.
    const bare = (await page.evaluate(`fetch('/api/v1/console/sign-out', { method: 'POST' }).then((r) => r.status)`)) as number;
    assert.equal(bare, 403);
    await shot(page, 'signed-in-by-sso');
    await page.context().close();
  });

  it('refuses an answer whose state this tab did not store, before using its code, and sets no cookie', async () => {
    // Someone's own sign-in, finished at the provider; its tab is kept from collecting it, so its callback address
    // (code and state) is what a link would carry, and its PKCE verifier proves at the end that the code was good.
    const owner = await c.newPage();
    let callback = '';
    owner.on('request', (r) => {
      if (new URL(r.url()).pathname === CONSOLE_SSO_CALLBACK_PATH) callback = r.url();
    });
    const kept = new Promise<ConsoleSsoRequest>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the console never tried to collect the sign-in')), 30_000);
      void owner.route('**/api/v1/console/sso', async (route) => {
        clearTimeout(timer);
        resolve(route.request().postDataJSON() as ConsoleSsoRequest);
        await route.abort();
      });
    });
    await owner.goto(c.url);
    await owner.getByRole('button', { name: SSO_BUTTON }).click();
    await fillIdpLogin(owner, SSO_USERS.alice);
    const ownersExchange = await kept;
    assert.match(callback, /[?&]code=pcs_/);
    const foreignState = new URL(callback).searchParams.get('state') ?? '';

    const victim = await c.newPage();
    const exchanges: string[] = [];
    victim.on('request', (r) => {
      if (r.url().endsWith('/api/v1/console/sso')) exchanges.push(r.url());
    });
    // A tab that started no sign-in. The page is the console's, under its CSP, and not kept in any cache.
    const served = await victim.goto(callback);
    assert.match(served?.headers()['content-security-policy'] ?? '', /script-src 'self';/);
    assert.equal(served?.headers()['cache-control'], 'no-store');
    await victim.getByRole('alert').filter({ hasText: 'this browser tab did not start a sign-in' }).waitFor();
    // A tab with a sign-in of its own under way: the answer's state is not the one it stored.
    await victim.goto(c.url);
    await victim.getByRole('button', { name: SSO_BUTTON }).click();
    await victim.locator('input[name="login"]').waitFor();
    const stored = (await victim
      .goto(c.url)
      .then(() => victim.evaluate(`JSON.parse(sessionStorage.getItem('portcullis.console.sso')).state`))) as string;
    assert.notEqual(stored, foreignState);
    await victim.goto(callback);
    const refusal = victim.getByRole('alert').filter({ hasText: 'its state does not match' });
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? '', /This single sign-on answer was refused/);
    // The same with the state changed by hand.
    await victim.goto(c.url);
    await victim.getByRole('button', { name: SSO_BUTTON }).click();
    await victim.locator('input[name="login"]').waitFor();
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${foreignState}x`);
    await victim.goto(tampered.href);
    await victim.getByRole('alert').filter({ hasText: 'its state does not match' }).waitFor();
    await victim.getByRole('link', { name: 'Back to sign-in' }).waitFor();
    assert.deepEqual(exchanges, [], 'the code was never sent to the server');
    assert.equal(await consoleCookie(victim), undefined, 'no sign-in cookie');
    assert.equal(new URL(victim.url()).search, '', 'the code left the address bar');
    await shot(victim, 'foreign-state-refused');

    // The code was good and unspent: with the owner's verifier it still signs in.
    assert.equal(ownersExchange.code, new URL(callback).searchParams.get('code'));
    const collected = await c.world.server.call('POST', '/console/sso', { body: ownersExchange });
    assert.equal(collected.status, 200, JSON.stringify(collected.body));
    await owner.context().close();
    await victim.context().close();
  });

  it("shows the server's reason when the groups give no access, and sets no cookie", async () => {
    const page = await c.newPage();
    await page.goto(c.url);
    await page.getByRole('button', { name: SSO_BUTTON }).click();
    await fillIdpLogin(page, SSO_USERS.carol);
    await page.getByRole('alert').filter({ hasText: 'carol@example.com is in no group that gives access' }).waitFor();
    await page.getByRole('link', { name: 'Back to sign-in' }).waitFor();
    assert.equal(await consoleCookie(page), undefined);
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    await page.context().close();
  });

  it('asks for the authenticator code of a user who set one up, and keeps the one-time code good until it is right', async () => {
    const secret = await enrollTotp(c.world, DAVE);
    const page = await c.newPage();
    await page.goto(c.url);
    await page.getByRole('button', { name: SSO_BUTTON }).click();
    await fillIdpLogin(page, DAVE);
    const codeField = page.getByRole('textbox', { name: 'Authenticator code' });
    await codeField.waitFor();
    assert.equal(await consoleCookie(page), undefined, 'not signed in before the code');
    const right = totpCode(secret, new Date(Date.now() + c.world.server.clock.offsetMs));
    const wrong = right.replace(/^./, (d) => String((Number(d) + 5) % 10));
    await codeField.fill(wrong);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong code' }).waitFor();
    assert.equal(await consoleCookie(page), undefined);
    await assertAccessible(page, 'single sign-on asking for the authenticator code');
    await codeField.fill(right);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.ok(await consoleCookie(page));
    await page.context().close();
  });
});

describe('web console: single sign-on only (password sign-in off), the provider MFA accepted', () => {
  let c: ConsoleSsoWorld;
  before(async () => {
    c = await startConsoleSsoWorld({ passwordSignIn: false, acceptIdpMfa: true });
  });
  after(async () => {
    await c?.close();
  });

  it('hides the password form and shows only single sign-on', async () => {
    const page = await c.newPage();
    await page.goto(c.url);
    await page.getByRole('button', { name: SSO_BUTTON }).waitFor();
    assert.equal(await page.getByLabel('Email').count(), 0);
    assert.equal(await page.getByLabel('Password').count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Sign in', exact: true }).count(), 0);
    await assertAccessible(page, 'sign-in page with single sign-on only');
    await page.context().close();
  });

  it('skips the authenticator code when the provider asserted MFA and the server accepts it', async () => {
    await enrollTotp(c.world, SSO_USERS.bob);
    const page = await c.newPage();
    await page.goto(c.url);
    await page.getByRole('button', { name: SSO_BUTTON }).click();
    await fillIdpLogin(page, SSO_USERS.bob);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Authenticator code' }).count(), 0);
    // Bob's groups: platform-admins and developers, both on the default project; admin wins.
    assert.match((await page.locator('.project-name').textContent()) ?? '', /^default \(admin\)$/);
    await page.context().close();
  });
});
